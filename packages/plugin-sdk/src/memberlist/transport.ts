import * as dgram from "node:dgram";
import * as net from "node:net";
import { PluginSdkError } from "../errors.js";
import type { GossipLogger } from "./logger.js";
import { MessageType } from "./messages.js";
import { readStreamMessage, type StreamCodecOptions, type StreamMessage } from "./stream.js";

/**
 * memberlist's NetTransport: one UDP socket and one TCP listener on the same address and port. Sends
 * never block or throw (failures are logged), every open socket is tracked so `close()` ends them all.
 */

export interface PacketSource {
  address: string;
  port: number;
}

export interface TransportOptions {
  bindAddress: string;
  /** 0: the OS chooses a port free for both UDP and TCP. */
  bindPort: number;
  logger: GossipLogger;
  onPacket(datagram: Buffer, from: PacketSource): void;
  onStream(socket: net.Socket): void;
}

export class Transport {
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly port: number,
    private readonly logger: GossipLogger,
  ) {}

  static async open(options: TransportOptions): Promise<Transport> {
    const attempts = options.bindPort === 0 ? 10 : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const tcp = net.createServer({ pauseOnConnect: false });
      try {
        await listen(tcp, options.bindAddress, options.bindPort);
      } catch (err) {
        lastError = err;
        continue;
      }
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: net.isIPv6(options.bindAddress) ? "udp6" : "udp4" });
      try {
        await bindUdp(udp, options.bindAddress, port);
      } catch (err) {
        lastError = err;
        udp.close();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        continue;
      }
      const transport = new Transport(udp, tcp, port, options.logger);
      try {
        udp.setRecvBufferSize(2 * 1024 * 1024);
      } catch {
        // Best effort, as memberlist.
      }
      udp.on("message", (msg, rinfo) => options.onPacket(msg, { address: rinfo.address, port: rinfo.port }));
      udp.on("error", (err) => options.logger.error({ err: err.message }, "UDP socket error"));
      tcp.on("connection", (socket) => {
        if (transport.closed) {
          socket.destroy();
          return;
        }
        transport.track(socket);
        options.onStream(socket);
      });
      tcp.on("error", (err) => options.logger.error({ err: err.message }, "TCP listener error"));
      return transport;
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new PluginSdkError(
      "INVALID_OPTION",
      `cannot bind gossip sockets on ${options.bindAddress}:${options.bindPort}: ${reason}`,
      { bindAddress: options.bindAddress, bindPort: options.bindPort },
      { cause: lastError },
    );
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    // Errors surface through whoever reads the socket (or its close); never as an uncaught exception.
    socket.on("error", () => {});
    socket.once("close", () => this.sockets.delete(socket));
  }

  /** Sends one datagram; errors are logged, never thrown. */
  sendPacket(datagram: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (datagram.length > 65_507) {
      this.logger.error(
        { bytes: datagram.length, to: `${address}:${port}` },
        "packet too large for UDP, dropped",
      );
      return;
    }
    this.udp.send(datagram, port, address, (err) => {
      if (err) this.logger.warn({ err: err.message, to: `${address}:${port}` }, "UDP send failed");
    });
  }

  /** Opens a TCP connection within `timeoutMs`. */
  dial(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
    if (this.closed) return Promise.reject(new PluginSdkError("SHUT_DOWN", "the member is shut down"));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address, port });
      this.track(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new PluginSdkError("TIMEOUT", `TCP connect to ${address}:${port} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new PluginSdkError(
            "CONNECT_FAILED",
            `cannot connect to ${address}:${port}: ${err.message}`,
            {},
            { cause: err },
          ),
        );
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        resolve(socket);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function bindUdp(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once("error", onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
}

/**
 * Reads one stream message from `socket` and hands it to `parse`, which returns undefined while it
 * needs more bytes. Rejects on timeout, early close, oversize or invalid data.
 */
export function receiveStreamMessage<T>(
  socket: net.Socket,
  codec: StreamCodecOptions,
  timeoutMs: number,
  parse: (message: StreamMessage) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let total = 0;
    /** Bytes an encrypted frame announced: no need to look again before they are all here. */
    let needed = 0;
    let done = false;
    const finish = (err: unknown, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onError);
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () =>
        finish(new PluginSdkError("TIMEOUT", `no complete message within ${timeoutMs} ms (${total} bytes)`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > codec.maxBytes + 5) {
        finish(new PluginSdkError("MESSAGE_TOO_LARGE", `stream message exceeds ${codec.maxBytes} bytes`));
        return;
      }
      if (total < needed) return;
      const received = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      chunks = [received];
      if (received[0] === MessageType.encrypt && received.length >= 5) needed = 5 + received.readUInt32BE(1);
      try {
        const message = readStreamMessage(received, codec);
        if (!message) return;
        const value = parse(message);
        if (value !== undefined) finish(undefined, value);
      } catch (err) {
        finish(err);
      }
    };
    const onEnd = () =>
      finish(
        new PluginSdkError(
          "MESSAGE_MALFORMED",
          total === 0
            ? "the peer closed the connection without answering"
            : `the peer closed the connection after ${total} bytes, before a complete message`,
        ),
      );
    const onError = (err: Error) => finish(err);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    socket.on("error", onError);
  });
}
