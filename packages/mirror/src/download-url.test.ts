import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsBlobStore } from "@beskar-yum/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamClient } from "./upstream-client.js";

const body = randomBytes(100_000);
const digest = createHash("sha256").update(body).digest("hex");

/** A server answering `body` to any GET, recording each request's path and headers. */
async function server(): Promise<{
  server: Server;
  base: string;
  seen: { path: string; headers: IncomingHttpHeaders }[];
}> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const s = createServer((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    res.setHeader("content-length", body.length);
    res.end(body);
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

describe("UpstreamClient.downloadUrl (files under xml:base)", () => {
  let home: Awaited<ReturnType<typeof server>>;
  let cdn: Awaited<ReturnType<typeof server>>;
  let dir: string;
  let blobs: FsBlobStore;
  let client: UpstreamClient;

  beforeAll(async () => {
    home = await server();
    cdn = await server();
    dir = mkdtempSync(join(tmpdir(), "download-url-"));
    blobs = new FsBlobStore(dir);
    client = new UpstreamClient({
      urls: [`${home.base.replace("http://", "http://user:secret@")}/repo/`],
      log: () => {},
      backoffMs: 1,
    });
  });
  afterAll(async () => {
    await client.close();
    for (const s of [home, cdn]) {
      s.server.closeAllConnections();
      s.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends no credentials to another origin, and verifies what it gets", async () => {
    const blob = await client.downloadUrl(
      new URL(`${cdn.base}/tree/Packages/x.rpm`),
      blobs,
      {
        size: body.length,
        checksum: { type: "sha256", value: digest },
      },
      1 << 20,
    );
    expect(blob.digest).toBe(digest);
    await blobs.discard(blob);
    expect(cdn.seen.map((r) => [r.path, r.headers.authorization])).toEqual([
      ["/tree/Packages/x.rpm", undefined],
    ]);
  });

  it("sends the configured mirror's basic auth to its own origin (the rule of redirects)", async () => {
    const blob = await client.downloadUrl(
      new URL(`${home.base}/other-tree/x.rpm`),
      blobs,
      { size: body.length },
      1 << 20,
    );
    await blobs.discard(blob);
    expect(home.seen.at(-1)).toMatchObject({
      path: "/other-tree/x.rpm",
      headers: { authorization: `Basic ${Buffer.from("user:secret").toString("base64")}` },
    });
  });

  it("refuses a file that does not match, leaving nothing behind", async () => {
    const wrong = { size: body.length, checksum: { type: "sha256", value: "0".repeat(64) } };
    await expect(
      client.downloadUrl(new URL(`${cdn.base}/x.rpm`), blobs, wrong, 1 << 20),
    ).rejects.toMatchObject({
      code: "UPSTREAM_CHECKSUM_MISMATCH",
    });
    const short = { size: body.length + 1 };
    await expect(
      client.downloadUrl(new URL(`${cdn.base}/x.rpm`), blobs, short, 1 << 20),
    ).rejects.toMatchObject({
      code: "UPSTREAM_SIZE_MISMATCH",
    });
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  });
});
