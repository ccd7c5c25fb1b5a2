import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type * as tls from "node:tls";
import { PluginSdkError } from "../errors.js";
import { describeError, type Logger, silentLogger } from "../logger.js";

/** A TLS handshake record starts with this byte (content type 22). */
const TLS_HANDSHAKE = 0x16;

export interface PluginHttpServerOptions {
  /** Handles every request, plain HTTP and TLS alike (`isTlsRequest` tells them apart). */
  handler: http.RequestListener;
  /** How long to wait for a connection's first byte before dropping it (Beskar's cmux: 100 ms). */
  detectTimeoutMs?: number;
  /** Time allowed to receive a request's headers (Beskar: ReadTimeout 5 s). Default 5000. */
  headersTimeoutMs?: number;
  /**
   * How long a connection may stay silent while a request body is read. Not a limit on the whole
   * request (Beskar's ReadTimeout is): uploads forwarded by Beskar take as long as they take, a
   * stalled one is dropped. Default 60000.
   */
  idleTimeoutMs?: number;
  /** Open connections at most; new ones beyond it are closed at once. Default: no limit. */
  maxConnections?: number;
  logger?: Logger;
}

/**
 * One TCP port serving plain HTTP and TLS, as Beskar's cmux listener: each connection's first byte is
 * peeked; 0x16 (a TLS handshake) hands it to the TLS server, anything else to the plain one. TLS
 * connections are refused until `setTlsOptions` installs a configuration (the CA comes from gossip).
 */
export class PluginHttpServer {
  private readonly net: net.Server;
  private readonly plain: http.Server;
  private secure: https.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly logger: Logger;
  private readonly detectTimeoutMs: number;
  private readonly headersTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: PluginHttpServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.detectTimeoutMs = options.detectTimeoutMs ?? 100;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 5000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.plain = this.configure(http.createServer(this.checking(), options.handler));
    this.net = net.createServer((socket) => this.accept(socket));
    if (options.maxConnections !== undefined) this.net.maxConnections = options.maxConnections;
  }

  /** The bound port (0 before `listen`). */
  get port(): number {
    const address = this.net.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  /** Binds `host:port` (port 0: any free port). */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new PluginSdkError(
            "SERVER_FAILED",
            `cannot listen on ${host}:${port}: ${err.message}`,
            {},
            { cause: err },
          ),
        );
      };
      this.net.once("error", onError);
      this.net.listen({ host, port }, () => {
        this.net.off("error", onError);
        this.net.on("error", (err) => this.logger.error({ err: describeError(err) }, "listener error"));
        resolve();
      });
    });
  }

  /**
   * Installs (or replaces) the TLS configuration: key, cert, ca, requestCert... as Node's
   * `tls.createSecureContext` and `tls.createServer` take them.
   */
  setTlsOptions(options: tls.TlsOptions): void {
    if (this.secure) {
      this.secure.setSecureContext(options);
      return;
    }
    const secure = https.createServer({ ...options, ...this.checking() }, this.options.handler);
    secure.on("tlsClientError", (err, socket) => {
      this.logger.debug({ err: describeError(err), remote: socket.remoteAddress }, "TLS handshake failed");
    });
    this.secure = this.configure(secure);
  }

  /** Stops listening and closes every connection, idle or not. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new Promise<void>((resolve) => this.net.close(() => resolve()));
    for (const server of [this.plain, this.secure]) {
      server?.closeAllConnections();
      // Stops the connections check; the server was never bound, so its close callback gets an error.
      server?.close(() => undefined);
    }
    for (const socket of this.sockets) socket.destroy();
    await closing;
  }

  /**
   * Node checks the headers timeout every `connectionsCheckingInterval` (default 30 s, six times
   * Beskar's 5 s): checked four times per timeout instead, so a slow sender goes on time.
   */
  private checking(): http.ServerOptions {
    return {
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(this.headersTimeoutMs / 4))),
    };
  }

  private configure<S extends http.Server>(server: S): S {
    server.headersTimeout = this.headersTimeoutMs;
    server.requestTimeout = 0;
    // Without a 'timeout' listener Node destroys the silent socket.
    server.timeout = this.idleTimeoutMs;
    server.on("clientError", (err, socket) => {
      this.logger.debug({ err: describeError(err) }, "bad HTTP request");
      socket.destroy();
    });
    // Connections reach this server by 'connection' events, it never listens itself; Node starts
    // tracking connections (the headers timeout, closeAllConnections) on 'listening', so without
    // this the headers timeout was never enforced.
    server.emit("listening");
    return server;
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", (err) => this.logger.debug({ err: describeError(err) }, "connection error"));
    const timer = setTimeout(() => socket.destroy(), this.detectTimeoutMs);
    socket.once("data", (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) {
        if (!this.secure) {
          this.logger.debug(
            { remote: socket.remoteAddress },
            "TLS connection before the CA is known, closed",
          );
          socket.destroy();
          return;
        }
        this.secure.emit("connection", socket);
      } else {
        this.plain.emit("connection", socket);
        // The HTTP server's 'data' listener does not resume a paused socket by itself.
        socket.resume();
      }
    });
  }
}

/** True when the request came over TLS (Go's `r.TLS != nil`). */
export function isTlsRequest(req: http.IncomingMessage): boolean {
  return (req.socket as tls.TLSSocket).encrypted === true;
}
