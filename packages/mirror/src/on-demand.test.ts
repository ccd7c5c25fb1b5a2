import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { FsBlobStore, type PackageRecord } from "@beskar-yum/storage";
import { afterEach, describe, expect, it } from "vitest";
import { streamOnDemand } from "./on-demand.js";

const size = 32 * 1024 * 1024;
const bytes = randomBytes(size);
const digest = createHash("sha256").update(bytes).digest("hex");

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** An upstream serving `bytes` for any path; `sent()` is how many bytes it has handed to the socket. */
async function upstream(): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-length": size });
    let at = 0;
    const pump = () => {
      while (at < size) {
        const chunk = bytes.subarray(at, at + 64 * 1024);
        at += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, sent: () => sent };
}

function record(): PackageRecord {
  return { id: digest, href: "Packages/big-1-1.x86_64.rpm", fileSize: size } as PackageRecord;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("streamOnDemand", () => {
  it("downloads at the pace of a client that does not read, then serves and stores every byte", async () => {
    const up = await upstream();
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const out = await streamOnDemand(record(), blobs, { urls: [up.url], log: () => {} });
    await settle();
    // Socket buffers hold some of it; the package itself does not pile up in memory.
    expect(up.sent()).toBeLessThan(size / 2);
    expect(out.readableLength).toBeLessThanOrEqual(2 * 1024 * 1024);

    expect((await drain(out)).equals(bytes)).toBe(true);
    await settle();
    expect(readFileSync(blobs.pathOf(digest)).equals(bytes)).toBe(true);
  });

  it("still stores the package when the client goes away midway", async () => {
    const up = await upstream();
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const out = await streamOnDemand(record(), blobs, { urls: [up.url], log: () => {} });
    await settle();
    out.destroy();
    const deadline = Date.now() + 10_000;
    while (!existsSync(blobs.pathOf(digest)) && Date.now() < deadline) await settle();
    expect(readFileSync(blobs.pathOf(digest)).equals(bytes)).toBe(true);
  });
});
