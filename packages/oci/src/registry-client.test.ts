import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import { isYumError } from "@beskar-yum/errors";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Digest } from "./beskar-manifests.js";
import { RegistryClient } from "./registry-client.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe("RegistryClient", () => {
  it("maps registry answers to typed errors", async () => {
    const base = await serve((req, res) => {
      if (req.url?.endsWith("missing")) res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      else if (req.url?.includes("/manifests/broken")) res.writeHead(503).end("down");
      else res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
    });
    const client = new RegistryClient({ baseUrl: base });
    const missing = await rejection(client.getManifest("a/b", "missing"));
    expect(isYumError(missing, "REGISTRY_NOT_FOUND")).toBe(true);
    expect((missing as Error).message).toMatch(
      /GET \/v2\/a\/b\/manifests\/missing: registry answered HTTP 404: .*MANIFEST_UNKNOWN/,
    );
    expect(isYumError(await rejection(client.getManifest("a/b", "broken")), "REGISTRY_UNAVAILABLE")).toBe(
      true,
    );
    const rejected = await rejection(client.putManifest("a/b", "tag", Buffer.from("{}")));
    expect(isYumError(rejected, "REGISTRY_REJECTED")).toBe(true);
    expect(isYumError(await rejection(client.deleteManifest("a/b", "tag")), "INVALID_ARGUMENT")).toBe(true);
    // A manifest already gone is what a delete asks for; any other refusal is still an error.
    expect(await client.deleteManifest("a/b", "sha256:missing")).toBe(false);
    expect(
      isYumError(await rejection(client.deleteManifest("a/b", "sha256:refused")), "REGISTRY_REJECTED"),
    ).toBe(true);
    client.close();
  });

  it("reports a registry that does not answer as REGISTRY_UNAVAILABLE", async () => {
    const base = await serve(() => {});
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const client = new RegistryClient({ baseUrl: base });
    const err = await rejection(client.hasBlob("a/b", sha256Digest(Buffer.from("x"))));
    expect(isYumError(err, "REGISTRY_UNAVAILABLE")).toBe(true);
  });

  it("uploads with POST then PUT <Location>&digest=, skipping blobs the registry has", async () => {
    const stored = new Map<string, Buffer>();
    const requests: string[] = [];
    const base = await serve(async (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? "/", "http://x");
      if (req.method === "HEAD") {
        const digest = url.pathname.split("/").pop()!;
        res.writeHead(stored.has(digest) ? 200 : 404).end();
      } else if (req.method === "POST") {
        res
          .writeHead(202, {
            location: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v2/a/b/blobs/uploads/u1?_state=s`,
          })
          .end();
      } else if (req.method === "PUT") {
        const body = Buffer.from(await text(req));
        stored.set(url.searchParams.get("digest")!, body);
        expect(req.headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
        res.writeHead(201).end();
      } else res.writeHead(405).end();
    });
    const client = new RegistryClient({ baseUrl: base, username: "u", password: "p" });
    const bytes = Buffer.from("hello");
    const blob = { digest: sha256Digest(bytes), size: bytes.length, source: () => bytes };
    expect(await client.pushBlob("a/b", blob)).toBe(true);
    expect(await client.pushBlob("a/b", blob)).toBe(false);
    expect(requests.filter((r) => !r.startsWith("HEAD"))).toEqual([
      "POST /v2/a/b/blobs/uploads/",
      `PUT /v2/a/b/blobs/uploads/u1?_state=s&digest=${encodeURIComponent(blob.digest)}`,
    ]);
    expect(stored.get(blob.digest)?.toString()).toBe("hello");
    client.close();
  });

  it("fails a blob stream whose bytes do not match the digest", async () => {
    const base = await serve((_req, res) => res.writeHead(200).end("tampered"));
    const client = new RegistryClient({ baseUrl: base });
    const stream = await client.openBlob("a/b", { digest: sha256Digest(Buffer.from("original")) });
    const err = await rejection(text(stream));
    expect(isYumError(err, "REGISTRY_DIGEST_MISMATCH")).toBe(true);
    client.close();
  });

  it("reads a part of a blob with Range, and only that part of a registry that ignores Range", async () => {
    const blob = Buffer.alloc(32 << 20, 7);
    blob.write("RPMHEAD", 100);
    const digest = sha256Digest(blob);
    let ranged = true;
    let sent = 0;
    const base = await serve((req, res) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range));
      if (ranged && range) {
        const part = blob.subarray(Number(range[1]), Number(range[2]) + 1);
        res.writeHead(206, { "content-length": part.length }).end(part);
        return;
      }
      // The whole blob, 64 KiB at a time, counting what the client made us send before it left.
      res.writeHead(200, { "content-length": blob.length });
      let at = 0;
      const next = () => {
        while (at < blob.length) {
          const chunk = blob.subarray(at, at + 65536);
          at += chunk.length;
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", next);
        }
        res.end();
      };
      res.on("close", () => (at = blob.length));
      next();
    });
    const client = new RegistryClient({ baseUrl: base });
    expect((await client.readBlobRange("a/b", digest, 100, 7)).toString()).toBe("RPMHEAD");
    // Twice over one kept-alive connection: a 206 is read to its end.
    expect((await client.readBlobRange("a/b", digest, 100, 3)).toString()).toBe("RPM");
    expect((await client.readBlobRange("a/b", digest, blob.length - 2, 10)).length).toBe(2);
    ranged = false;
    expect((await client.readBlobRange("a/b", digest, 100, 7)).toString()).toBe("RPMHEAD");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sent).toBeLessThan(blob.length / 2);
    client.close();
  });
});
