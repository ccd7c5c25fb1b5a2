import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import { FsBlobStore, type PackageRecord } from "@beskar-yum/storage";
import { afterEach, describe, expect, it } from "vitest";
import { OnDemandFetcher } from "./on-demand.js";

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
async function upstream(
  fault: { status?: number; corruptAt?: number } = {},
): Promise<{ url: string; sent: () => number; requests: () => number }> {
  let sent = 0;
  let requests = 0;
  const body = fault.corruptAt === undefined ? bytes : Buffer.from(bytes);
  if (fault.corruptAt !== undefined) body[fault.corruptAt]! ^= 0xff;
  server = createServer((_req, res) => {
    requests++;
    if (fault.status) {
      res.writeHead(fault.status).end();
      return;
    }
    res.writeHead(200, { "content-length": size });
    let at = 0;
    const pump = () => {
      while (at < size) {
        const chunk = body.subarray(at, at + 64 * 1024);
        at += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    sent: () => sent,
    requests: () => requests,
  };
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

describe("OnDemandFetcher", () => {
  it("downloads whole while a client reads nothing, without holding the package in memory", async () => {
    const up = await upstream();
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const out = await new OnDemandFetcher().open(record(), blobs, { urls: [up.url], log: () => {} });
    const deadline = Date.now() + 10_000;
    while (!existsSync(blobs.pathOf(digest)) && Date.now() < deadline) await settle();
    // Stored in full while the client read nothing: the bytes went to disk, not into the client's stream.
    expect(up.sent()).toBe(size);
    expect(out.readableLength).toBeLessThanOrEqual(1024 * 1024);
    expect((await drain(out)).equals(bytes)).toBe(true);
    expect(readFileSync(blobs.pathOf(digest)).equals(bytes)).toBe(true);
  });

  it("still stores the package when the client goes away midway", async () => {
    const up = await upstream();
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const out = await new OnDemandFetcher().open(record(), blobs, { urls: [up.url], log: () => {} });
    out.destroy();
    const deadline = Date.now() + 10_000;
    while (!existsSync(blobs.pathOf(digest)) && Date.now() < deadline) await settle();
    expect(readFileSync(blobs.pathOf(digest)).equals(bytes)).toBe(true);
  });

  it("serves twenty clients asking at once from one upstream download", async () => {
    const up = await upstream();
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const fetcher = new OnDemandFetcher();
    const outs = await Promise.all(
      Array.from({ length: 20 }, () => fetcher.open(record(), blobs, { urls: [up.url], log: () => {} })),
    );
    const bodies = await Promise.all(outs.map(drain));
    for (const body of bodies) expect(body.equals(bytes)).toBe(true);
    expect(up.requests()).toBe(1);
    // Once stored, a later request would be served from the blob store; the fetcher forgot it.
    await settle();
    expect(readFileSync(blobs.pathOf(digest)).equals(bytes)).toBe(true);
  });

  it("cuts every reader short when upstream's bytes do not match, and stores nothing", async () => {
    const up = await upstream({ corruptAt: size - 10 });
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const blobs = new FsBlobStore(dir);
    const fetcher = new OnDemandFetcher();
    const outs = await Promise.all(
      [1, 2].map(() => fetcher.open(record(), blobs, { urls: [up.url], log: () => {} })),
    );
    for (const out of outs) await expect(drain(out)).rejects.toThrow(/sha256|checksum/i);
    expect(existsSync(blobs.pathOf(digest))).toBe(false);
  });

  it("refuses before sending anything when upstream does not have the package, without naming upstream", async () => {
    const up = await upstream({ status: 404 });
    dir = mkdtempSync(join(tmpdir(), "byondemand-"));
    const logged: string[] = [];
    const err = await new OnDemandFetcher()
      .open(record(), new FsBlobStore(dir), { urls: [up.url], log: (m) => logged.push(m) })
      .catch((e: unknown) => e as YumError);
    expect(err).toBeInstanceOf(YumError);
    expect((err as YumError).code).toBe("UPSTREAM_UNAVAILABLE");
    expect((err as YumError).message).not.toContain("127.0.0.1");
    expect(logged.join("\n")).toContain("404");
  });
});
