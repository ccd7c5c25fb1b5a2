import type * as net from "node:net";
import { isPluginSdkError, PluginSdkError } from "../errors.js";
import { describeError, type MemberContext } from "./member-context.js";
import {
  ackRespCodec,
  errRespCodec,
  MessageType,
  messageTypeName,
  type Ping,
  pingCodec,
} from "./messages.js";
import {
  buildPushPull,
  encodeStreamMessage,
  type PushPull,
  parsePushPull,
  parseStreamBody,
  parseUserMsg,
  type StreamMessage,
} from "./stream.js";
import { receiveStreamMessage } from "./transport.js";

/** Incoming TCP connections handled at once (memberlist: maxPushPullRequests = 128). */
const MAX_CONCURRENT_STREAMS = 128;

type Incoming =
  | { kind: "pushPull"; pushPull: PushPull }
  | { kind: "ping"; ping: Ping }
  | { kind: "user"; payload: Buffer };

export interface StreamEvents {
  /** A push/pull carried user state (after the state delegate got it). */
  onRemoteState(state: Buffer, join: boolean): void;
  onUserMessage(payload: Buffer): void;
}

/**
 * The TCP side of memberlist: full-state push/pull (join and anti-entropy) as initiator and responder,
 * plus the TCP ping and user messages a peer may send us.
 */
export class PushPullExchange {
  private incomingStreams = 0;

  constructor(
    private readonly ctx: MemberContext,
    private readonly events: StreamEvents,
  ) {}

  private get limits() {
    return { maxNodes: this.ctx.opts.maxPushPullNodes, maxUserState: this.ctx.opts.maxStreamBytes };
  }

  private localPushPull(join: boolean): Buffer {
    const userState = this.ctx.opts.stateDelegate.localState(join) ?? new Uint8Array();
    return buildPushPull(join, this.ctx.membership.pushStates(), userState);
  }

  /** memberlist's pushPullNode: send our full state over TCP, read theirs, merge it. */
  async exchange(address: string, port: number, join: boolean): Promise<void> {
    const { transport, codec, opts } = this.ctx;
    if (!transport) throw new PluginSdkError("SHUT_DOWN", "the member is not running");
    const socket = await transport.dial(address, port, opts.tcpTimeoutMs);
    let remote: PushPull;
    try {
      socket.setNoDelay(true);
      socket.write(encodeStreamMessage(this.localPushPull(join), codec));
      remote = await receiveStreamMessage(socket, codec, opts.tcpTimeoutMs, (m) => this.parseReply(m));
    } finally {
      socket.destroy();
    }
    this.merge(remote);
  }

  private parseReply(message: StreamMessage): PushPull | undefined {
    if (message.type === MessageType.err) {
      const resp = parseStreamBody(message, (b) => errRespCodec.decode(b).value);
      if (!resp) return undefined;
      throw new PluginSdkError("REMOTE_ERROR", `remote error: ${resp.error}`);
    }
    if (message.type !== MessageType.pushPull) {
      throw new PluginSdkError(
        "MESSAGE_MALFORMED",
        `received ${messageTypeName(message.type)}, expected a push/pull reply`,
      );
    }
    return parseStreamBody(message, (b) => parsePushPull(b, this.limits));
  }

  /** memberlist's mergeRemoteState: protocol check, node states, then the user state. */
  private merge(remote: PushPull): void {
    const problem = this.ctx.membership.checkProtocol(remote.nodes);
    if (problem) throw new PluginSdkError("MESSAGE_MALFORMED", problem);
    this.ctx.membership.mergeState(remote.nodes);
    if (remote.header.userStateLen > 0) {
      this.ctx.opts.stateDelegate.mergeRemoteState(remote.userState, remote.header.join);
      this.events.onRemoteState(remote.userState, remote.header.join);
    }
  }

  private parseIncoming(message: StreamMessage): Incoming | undefined {
    switch (message.type) {
      case MessageType.pushPull: {
        const pushPull = parseStreamBody(message, (b) => parsePushPull(b, this.limits));
        return pushPull && { kind: "pushPull", pushPull };
      }
      case MessageType.ping: {
        const ping = parseStreamBody(message, (b) => pingCodec.decode(b).value);
        return ping && { kind: "ping", ping };
      }
      case MessageType.user: {
        const payload = parseStreamBody(message, (b) => parseUserMsg(b, this.ctx.opts.maxStreamBytes));
        return payload && { kind: "user", payload };
      }
      default:
        throw new PluginSdkError("MESSAGE_MALFORMED", `received invalid msgType (${message.type})`);
    }
  }

  /** Serves one incoming connection (memberlist's handleConn). */
  async serve(socket: net.Socket): Promise<void> {
    const { opts, codec } = this.ctx;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.incomingStreams >= MAX_CONCURRENT_STREAMS) {
      opts.logger.error({ peer }, "too many pending stream connections, dropped one");
      socket.destroy();
      return;
    }
    this.incomingStreams++;
    socket.once("close", () => this.incomingStreams--);
    socket.setNoDelay(true);
    let incoming: Incoming;
    try {
      incoming = await receiveStreamMessage(socket, codec, opts.tcpTimeoutMs, (m) => this.parseIncoming(m));
    } catch (err) {
      const silent = isPluginSdkError(err, "MESSAGE_MALFORMED") && /without answering/.test(err.message);
      if (!silent && this.ctx.running) {
        opts.logger.warn({ peer, err: describeError(err) }, "failed to receive a stream message");
        // As memberlist: tell the peer why (encrypted with our key, so a peer with another key cannot read it).
        socket.end(encodeStreamMessage(errRespCodec.message({ error: describeError(err) }), codec));
      } else socket.destroy();
      return;
    }
    try {
      switch (incoming.kind) {
        case "pushPull":
          socket.end(encodeStreamMessage(this.localPushPull(incoming.pushPull.header.join), codec));
          this.merge(incoming.pushPull);
          return;
        case "ping": {
          const { ping } = incoming;
          if (ping.node !== "" && ping.node !== opts.name) {
            opts.logger.warn({ peer, node: ping.node }, "got a TCP ping for another node");
            socket.destroy();
            return;
          }
          socket.end(
            encodeStreamMessage(
              ackRespCodec.message({ seqNo: ping.seqNo, payload: new Uint8Array() }),
              codec,
            ),
          );
          return;
        }
        case "user":
          socket.end();
          this.events.onUserMessage(incoming.payload);
          return;
      }
    } catch (err) {
      opts.logger.warn(
        { peer, kind: incoming.kind, err: describeError(err) },
        "failed to handle a stream message",
      );
      socket.destroy();
    }
  }
}
