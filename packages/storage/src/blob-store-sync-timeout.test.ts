import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "./blob-store.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "blob-sync-timeout-"));
  dirs.push(dir);
  return dir;
};
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A `sync` first on PATH that does not return for `seconds` (a stalled flush of a busy filesystem). */
function stalledSync(seconds: number): void {
  const bin = tempDir();
  writeFileSync(join(bin, "sync"), `#!/bin/sh\nexec sleep ${seconds}\n`);
  chmodSync(join(bin, "sync"), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
}

function storeMany(blobs: FsBlobStore, n: number): string[] {
  const digests: string[] = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.from(`blob ${i}`);
    const digest = createHash("sha256").update(data).digest("hex");
    blobs.putSync(digest, data);
    digests.push(digest);
  }
  return digests;
}

describe("FsBlobStore.syncMany deadline", () => {
  it("falls back to fsync of each blob when sync -f does not return in half the timeout", async () => {
    stalledSync(30);
    const blobs = new FsBlobStore(tempDir());
    const digests = storeMany(blobs, 80);
    const t0 = Date.now();
    await blobs.syncMany(digests, { timeoutMs: 1000 });
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(5000);
  });

  it("fails with TIMEOUT naming what did not return when per-file fsync cannot finish either", async () => {
    stalledSync(30);
    const blobs = new FsBlobStore(tempDir());
    const digests = storeMany(blobs, 80);
    const t0 = Date.now();
    // Half of 2 ms for sync -f, then 1 ms left for 80 fsyncs: they cannot make it.
    await expect(blobs.syncMany(digests, { timeoutMs: 2 })).rejects.toMatchObject({
      code: "TIMEOUT",
      message: expect.stringMatching(/durable took more than 2 ms.*sync -f .* did not return within 1 ms/),
    });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
