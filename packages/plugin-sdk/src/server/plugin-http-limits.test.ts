import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PluginHttpServer } from "./plugin-http-server.js";

const servers: PluginHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: { headersTimeoutMs?: number; maxConnections?: number }) {
  const server = new PluginHttpServer({ ...options, handler: (_req, res) => void res.end("ok") });
  servers.push(server);
  await server.listen("127.0.0.1", 0);
  return server;
}

/** Connects, sends `first`, then a header line every 100 ms; resolves with ms until the server closed it. */
function slowHeaders(port: number, first: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const t0 = Date.now();
    socket.on("error", () => undefined);
    socket.once("connect", () => socket.write(first));
    const trickle = setInterval(() => socket.write("X-Slow: 1\r\n"), 100);
    socket.once("close", () => {
      clearInterval(trickle);
      resolve(Date.now() - t0);
    });
    setTimeout(() => socket.destroy(), 10_000);
  });
}

describe("PluginHttpServer limits", () => {
  it("drops a sender of slow headers at the headers timeout, not at Node's next 30 s check", async () => {
    const server = await start({ headersTimeoutMs: 500 });
    const ms = await slowHeaders(server.port, "GET / HTTP/1.1\r\nHost: x\r\n");
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1500);
  });

  it("closes connections beyond maxConnections at once", async () => {
    const server = await start({ maxConnections: 2 });
    const sockets = await Promise.all(
      Array.from({ length: 3 }, () => {
        const socket = net.connect(server.port, "127.0.0.1");
        socket.on("error", () => undefined);
        return new Promise<net.Socket>((resolve) => socket.once("connect", () => resolve(socket)));
      }),
    );
    const closed = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            socket.once("close", () => resolve(true));
            setTimeout(() => resolve(false), 80);
          }),
      ),
    );
    expect(closed.filter(Boolean)).toHaveLength(1);
    for (const socket of sockets) socket.destroy();
  });
});
