import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { YumError } from "@beskar-yum/errors";
import type { ProxyServer } from "./proxy.js";

/**
 * Opens a `CONNECT host:port` tunnel through `proxy` and resolves with the raw socket to the target
 * (TLS to the target is the caller's). A proxy that refuses (407, 403, 502...) or stays silent for
 * `timeoutMs` rejects with `UPSTREAM_PROXY_FAILED`; the error names the proxy without credentials.
 */
export function openTunnel(proxy: ProxyServer, authority: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const send = proxy.url.protocol === "https:" ? https.request : http.request;
    const req = send({
      host: proxy.url.hostname,
      port: proxy.url.port || (proxy.url.protocol === "https:" ? 443 : 80),
      method: "CONNECT",
      path: authority,
      headers: {
        host: authority,
        ...(proxy.authorization ? { "proxy-authorization": proxy.authorization } : {}),
      },
      // A tunnel is one connection for one target: never pooled as a request to the proxy.
      agent: false,
    });
    const fail = (err: Error) => {
      req.destroy();
      reject(
        new YumError(
          "UPSTREAM_PROXY_FAILED",
          `proxy ${proxy.display}: CONNECT ${authority}: ${describeError(err)}`,
          {},
          { cause: err },
        ),
      );
    };
    req.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    req.once("error", fail);
    req.once("response", (res) => {
      // A proxy that answers CONNECT with a plain response (not a 2xx upgrade) refused the tunnel.
      res.resume();
      fail(new Error(`HTTP ${res.statusCode}`));
    });
    req.once("connect", (res, socket, head) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        return fail(new Error(`HTTP ${res.statusCode}`));
      }
      // Bytes the proxy sent after its 200 already belong to the target.
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.end();
  });
}

function describeError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message}` : err.message;
}

/**
 * An https.Agent whose connections go through a CONNECT tunnel: keep-alive, per-host limits and
 * TLS options (CA, client certificate, servername) work as for a direct agent, since only the
 * creation of the socket changes. Node's Agent accepts a socket from an asynchronous callback.
 */
export class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: ProxyServer,
    private readonly tunnelTimeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: http.ClientRequestArgs & tls.ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    const host = options.hostname ?? options.host ?? "localhost";
    const authority = `${bracket(host)}:${options.port ?? 443}`;
    openTunnel(this.proxy, authority, this.tunnelTimeoutMs).then(
      (socket) => {
        const servername = options.servername ?? host;
        const secure = tls.connect({
          ...options,
          socket,
          ...(servername && !isIp(servername) ? { servername } : {}),
        });
        callback?.(null, secure);
      },
      // Node's Agent hands the error to the request; the socket argument is unused then.
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
