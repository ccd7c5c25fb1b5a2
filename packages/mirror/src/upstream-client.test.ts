import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamClient } from "./upstream-client.js";

const good = Buffer.from("the right bytes of a package");
const expected = {
  size: good.length,
  checksum: { type: "sha256", value: createHash("sha256").update(good).digest("hex") },
};

const servers: Server[] = [];
/** A server on 127.0.0.1 answering every request with `answer`; its base URL. */
async function serve(answer: (n: number) => { status: number; body: Buffer }): Promise<string> {
  let n = 0;
  const server = createServer((_req, res) => {
    const { status, body } = answer(++n);
    res.writeHead(status, { "content-length": body.length });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function client(urls: string[], logs: string[] = []) {
  return new UpstreamClient({ urls, log: (m) => logs.push(m), backoffMs: 1, connections: 4 });
}

describe("UpstreamClient.fetchVerified", () => {
  it("returns the bytes and their sha256", async () => {
    const c = client([await serve(() => ({ status: 200, body: good }))]);
    const { data, digest } = await c.fetchVerified("Packages/a.rpm", expected, 1024);
    expect(data.equals(good)).toBe(true);
    expect(digest).toBe(expected.checksum.value);
    await c.close();
  });

  it("takes the bytes from the next mirror when the first sends wrong ones, and says so", async () => {
    const logs: string[] = [];
    const wrong = Buffer.alloc(good.length, "x");
    const c = client(
      [await serve(() => ({ status: 200, body: wrong })), await serve(() => ({ status: 200, body: good }))],
      logs,
    );
    const { data } = await c.fetchVerified("Packages/a.rpm", expected, 1024);
    expect(data.equals(good)).toBe(true);
    expect(logs.join("\n")).toMatch(/sha256 is [0-9a-f]{64}, upstream metadata says/);
    await c.close();
  });

  it("refuses more bytes than declared, and a checksum that does not match", async () => {
    const long = client([await serve(() => ({ status: 200, body: Buffer.concat([good, good]) }))]);
    await expect(long.fetchVerified("Packages/a.rpm", expected, 1024)).rejects.toMatchObject({
      code: "UPSTREAM_SIZE_MISMATCH",
    });
    await long.close();
    const wrong = client([await serve(() => ({ status: 200, body: Buffer.alloc(good.length) }))]);
    await expect(wrong.fetchVerified("Packages/a.rpm", expected, 1024)).rejects.toMatchObject({
      code: "UPSTREAM_CHECKSUM_MISMATCH",
    });
    await wrong.close();
  });

  it("retries a 503 on the same mirror, and fails on a 404 everywhere", async () => {
    const logs: string[] = [];
    const flaky = client(
      [
        await serve((n) =>
          n === 1 ? { status: 503, body: Buffer.from("busy") } : { status: 200, body: good },
        ),
      ],
      logs,
    );
    expect((await flaky.fetchVerified("Packages/a.rpm", expected, 1024)).data.equals(good)).toBe(true);
    expect(logs.join("\n")).toMatch(/retrying Packages\/a\.rpm .*HTTP 503/);
    await flaky.close();
    const missing = client([await serve(() => ({ status: 404, body: Buffer.from("no") }))]);
    await expect(missing.fetchVerified("Packages/a.rpm", expected, 1024)).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(/no mirror could serve Packages\/a\.rpm: .*HTTP 404/),
    });
    await missing.close();
  });

  it("stops at once when its signal is aborted", async () => {
    const abort = new AbortController();
    const c = new UpstreamClient({
      urls: [await serve(() => ({ status: 200, body: good }))],
      log: () => undefined,
      signal: abort.signal,
    });
    abort.abort(new Error("lock lost"));
    await expect(c.fetchVerified("Packages/a.rpm", expected, 1024)).rejects.toThrow("lock lost");
    await c.close();

    // Also while a request is waiting for its answer.
    const hung = createServer(() => undefined);
    servers.push(hung);
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    const later = new AbortController();
    const waiting = new UpstreamClient({
      urls: [`http://127.0.0.1:${(hung.address() as AddressInfo).port}/`],
      log: () => undefined,
      signal: later.signal,
    });
    setTimeout(() => later.abort(new Error("lock lost later")), 50);
    await expect(waiting.fetchVerified("Packages/a.rpm", expected, 1024)).rejects.toThrow(/lock lost later/);
    hung.closeAllConnections();
    await waiting.close();
  });
});
