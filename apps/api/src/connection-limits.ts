import type * as http from "node:http";
import type { HttpLimits } from "@beskar-yum/config";
import type { FastifyInstance, FastifyRequest } from "fastify";

/**
 * The API's connection limits (README "Limits and timeouts"), per phase of a request:
 *
 * - headers: `headersTimeoutMs` from the connection's first byte (or the end of the previous response)
 *   to the end of the headers; a connection that sends nothing counts too. Node checks it every
 *   `connectionsCheckingInterval`, so that interval is kept well below the timeout.
 * - body: a non-upload request (JSON, at most 1 MiB) must arrive whole within `requestTimeoutMs`; an
 *   upload may take as long as it takes, but a body silent for `uploadIdleTimeoutMs` is dropped.
 *   (Node's own `requestTimeout` covers every body, uploads included, so it stays 0.)
 * - handler: no socket timeout; what a handler waits for has deadlines of its own (`wait=true`).
 * - response: a client that reads nothing for `sendTimeoutMs` is dropped (the socket is idle while
 *   its buffers are full); then `keepAliveTimeoutMs` between requests.
 * - A response sent before the request body was read (401/403/404 on an upload, any refusal) closes
 *   the connection instead of reading the rest of the body, as Node would to reuse it.
 */
export function serverOptions(limits: HttpLimits): {
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  http: http.ServerOptions;
} {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: 0,
    connectionTimeout: 0,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}

/** Uploads (`PUT` of packages and extra metadata) stream their body for as long as it takes. */
export function isUpload(request: Pick<FastifyRequest, "method" | "url">): boolean {
  return request.method === "PUT" && !request.url.startsWith("/artifacts/yum/api/");
}

/** Applies the per-request limits (body, handler, response phases) to every request of `app`. */
export function installConnectionLimits(app: FastifyInstance, limits: HttpLimits): void {
  app.addHook("onRequest", async (request) => {
    const req = request.raw;
    const socket = req.socket;
    if (req.complete) {
      // Nothing left to read: the handler's own deadlines apply (no idle limit inherited from the server).
      socket.setTimeout(0);
      return;
    }
    if (isUpload(request)) {
      socket.setTimeout(limits.uploadIdleTimeoutMs);
      req.once("end", () => socket.setTimeout(0));
      return;
    }
    socket.setTimeout(0);
    const timer = setTimeout(() => {
      if (!req.complete) socket.destroy();
    }, limits.requestTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once("end", clear);
    req.once("close", clear);
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const req = request.raw;
    reply.raw.socket?.setTimeout(limits.sendTimeoutMs);
    if (!req.complete && !reply.raw.headersSent) {
      // The body was not read (a refused upload): Node would read it all to keep the connection.
      closeUnreadRequest(req, reply.raw);
    }
    return payload;
  });
}

/**
 * How long a connection whose request body was left unread stays open after its response: the
 * client's FIN-to-close time to read that response. Closing a socket with unread bytes in its
 * receive buffer makes the kernel answer with a reset, and a reset that reaches the client before
 * it read the response destroys the response (seen: an unauthenticated 1 GiB upload got no 401 at
 * all, only ECONNRESET). nginx's `lingering_close` exists for the same reason.
 */
export const LINGER_MS = 2000;

/**
 * Ends the connection once `res` is sent rather than reading the rest of `req`'s body: `Connection:
 * close`, the response and a FIN, then the socket destroyed `LINGER_MS` later (or when the client
 * closes first). Meanwhile nothing more is read: the client's writes stop on a full window.
 */
export function closeUnreadRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
  // The response lets go of its socket once finished: hold on to it here. A request whose body
  // reader gave up (a JSON body over its limit: `for await` destroyed it) no longer has its socket:
  // the response still does (found by the API fuzz test: `null.destroy()` took the process down).
  const socket = req.socket ?? res.socket;
  if (!socket) return;
  res.once("finish", () => {
    // Node's server ends a `Connection: close` response's socket with destroySoon(): a FIN, then
    // destroy() once it is written, which is the reset above. The FIN is kept, the destroy delayed.
    socket.removeListener("finish", socket.destroy);
    if (!socket.destroyed) socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  });
}
