import type * as net from "node:net";
import { PluginSdkError } from "../errors.js";
import { formatAddr } from "./addresses.js";
import { describeError, type MemberContext } from "./member-context.js";
import { isDeadOrLeft, type NodeRecord } from "./membership.js";
import {
  ackRespCodec,
  type IndirectPingReq,
  indirectPingCodec,
  MessageType,
  messageTypeName,
  NodeStateType,
  nackRespCodec,
  type Ping,
  pingCodec,
  suspectCodec,
} from "./messages.js";
import { makeCompound } from "./packet.js";
import { encodeStreamMessage, parseStreamBody } from "./stream.js";
import { type PacketSource, receiveStreamMessage } from "./transport.js";

/**
 * SWIM failure detection as memberlist's probe/probeNode: one node per probe period gets a UDP ping;
 * without an ack within the probe timeout, other nodes are asked to ping it (indirect pings) and, for a
 * peer speaking protocol ≥ 3, a TCP ping is tried; without any ack by the end of the period it becomes
 * suspect. Also answers other nodes' pings and indirect pings.
 */
export class FailureDetector {
  private probeIndex = 0;
  private probing = false;

  constructor(
    private readonly ctx: MemberContext,
    private readonly onPingComplete: (node: NodeRecord, rttMs: number) => void,
  ) {}

  private get name(): string {
    return this.ctx.opts.name;
  }

  /** One probe period: probes the next node unless the previous probe still runs. */
  async tick(): Promise<void> {
    if (this.probing || !this.ctx.running) return;
    const node = this.nextTarget();
    if (!node) return;
    this.probing = true;
    try {
      await this.probe(node);
    } catch (err) {
      this.ctx.opts.logger.warn({ node: node.name, err: describeError(err) }, "probe failed");
    } finally {
      this.probing = false;
    }
  }

  /** Round-robin over the nodes, reshuffled (and reaped) after each pass; skips us and the dead. */
  private nextTarget(): NodeRecord | undefined {
    let checks = 0;
    for (;;) {
      const nodes = this.ctx.membership.all();
      if (checks >= nodes.length) return undefined;
      if (this.probeIndex >= nodes.length) {
        this.ctx.membership.reap();
        this.probeIndex = 0;
        checks++;
        continue;
      }
      const node = nodes[this.probeIndex++]!;
      if (node.name === this.name || isDeadOrLeft(node)) {
        checks++;
        continue;
      }
      return node;
    }
  }

  private ourPing(seqNo: number, node: string): Ping {
    const { addr, port } = this.ctx.advertise;
    return { seqNo, node, sourceAddr: addr, sourcePort: port, sourceNode: this.name };
  }

  private async probe(target: NodeRecord): Promise<void> {
    const { opts, acks, sender, membership, timers } = this.ctx;
    const node = { ...target, vsn: Uint8Array.from(target.vsn) };
    const address = formatAddr(node.addr);
    const seqNo = acks.nextSeq();
    const ping = this.ourPing(seqNo, node.name);
    const sent = Date.now();
    const ack = new Promise<number | undefined>((resolve) => {
      acks.expect(
        seqNo,
        opts.probeIntervalMs,
        (_payload, at) => resolve(at - sent),
        undefined,
        () => resolve(undefined),
      );
    });
    if (node.state === NodeStateType.alive) {
      sender.sendTo(address, node.port, pingCodec.message(ping), target);
    } else {
      const suspect = suspectCodec.message({
        incarnation: node.incarnation,
        node: node.name,
        from: this.name,
      });
      sender.sendRaw(address, node.port, makeCompound([pingCodec.message(ping), suspect]), target);
    }
    const direct = await Promise.race([
      ack,
      timers.sleep(opts.probeTimeoutMs).then(() => "timeout" as const),
    ]);
    if (typeof direct === "number") {
      this.onPingComplete(target, direct);
      return;
    }
    if (!this.ctx.running) return;
    opts.logger.debug({ node: node.name }, "failed ping (timeout reached), trying indirect probes");
    const helpers = membership.randomNodes(
      opts.indirectChecks,
      (n) => n.name !== this.name && n.name !== node.name && n.state === NodeStateType.alive,
    );
    for (const helper of helpers) {
      const { addr, port } = this.ctx.advertise;
      const req: IndirectPingReq = {
        seqNo,
        target: node.addr,
        port: node.port,
        node: node.name,
        nack: (helper.vsn[1] ?? 0) >= 4,
        sourceAddr: addr,
        sourcePort: port,
        sourceNode: this.name,
      };
      sender.sendTo(formatAddr(helper.addr), helper.port, indirectPingCodec.message(req), helper);
    }
    const fallback =
      !opts.disableTcpPings && (node.vsn[1] ?? 0) >= 3
        ? this.tcpPing(address, node.port, ping, sent + opts.probeIntervalMs).catch((err) => {
            opts.logger.warn({ node: node.name, err: describeError(err) }, "failed fallback TCP ping");
            return false;
          })
        : Promise.resolve(false);
    if ((await ack) !== undefined) return;
    if (await fallback) {
      opts.logger.warn(
        { node: node.name },
        "was able to connect over TCP but other probes failed, network may be misconfigured",
      );
      return;
    }
    if (!this.ctx.running) return;
    opts.logger.info({ node: node.name }, "suspect node has failed, no acks received");
    membership.suspectNode({ incarnation: node.incarnation, node: node.name, from: this.name });
  }

  /** memberlist's sendPingAndWaitForAck: true when the peer acked over TCP before `deadline`. */
  private async tcpPing(address: string, port: number, ping: Ping, deadline: number): Promise<boolean> {
    const { transport, codec } = this.ctx;
    if (!transport) return false;
    let socket: net.Socket;
    try {
      socket = await transport.dial(address, port, Math.max(1, deadline - Date.now()));
    } catch {
      return false; // a dead node is expected to refuse
    }
    try {
      socket.write(encodeStreamMessage(pingCodec.message(ping), codec));
      const ack = await receiveStreamMessage(socket, codec, Math.max(1, deadline - Date.now()), (m) => {
        if (m.type !== MessageType.ackResp) {
          throw new PluginSdkError(
            "MESSAGE_MALFORMED",
            `unexpected ${messageTypeName(m.type)} in reply to a TCP ping`,
          );
        }
        return parseStreamBody(m, (b) => ackRespCodec.decode(b).value);
      });
      if (ack.seqNo !== ping.seqNo) {
        throw new PluginSdkError(
          "MESSAGE_MALFORMED",
          `ack sequence ${ack.seqNo} does not match ping ${ping.seqNo}`,
        );
      }
      return true;
    } finally {
      socket.destroy();
    }
  }

  private replyAddress(
    p: { sourceAddr?: Uint8Array; sourcePort?: number },
    from: PacketSource,
  ): PacketSource {
    return p.sourceAddr && p.sourceAddr.length > 0 && p.sourcePort
      ? { address: formatAddr(p.sourceAddr), port: p.sourcePort }
      : from;
  }

  /** Acks a ping addressed to us (or to no name), to its source address when it gives one. */
  handlePing(ping: Ping, from: PacketSource): void {
    if (ping.node !== "" && ping.node !== this.name) {
      this.ctx.opts.logger.warn(
        { node: ping.node, from: `${from.address}:${from.port}` },
        "got a ping for another node",
      );
      return;
    }
    const to = this.replyAddress(ping, from);
    const ack = ackRespCodec.message({ seqNo: ping.seqNo, payload: new Uint8Array() });
    this.ctx.sender.sendTo(to.address, to.port, ack, this.ctx.membership.get(ping.sourceNode ?? ""));
  }

  /** Pings the target on the requester's behalf and relays the ack, or a nack when asked (protocol ≥ 4). */
  handleIndirectPing(req: IndirectPingReq, from: PacketSource): void {
    const { acks, sender, membership, timers, opts } = this.ctx;
    const port = req.port || this.ctx.advertise.port;
    const seqNo = acks.nextSeq();
    const requester = this.replyAddress(req, from);
    const requesterNode = membership.get(req.sourceNode ?? "");
    let acked = false;
    acks.expect(seqNo, opts.probeTimeoutMs, () => {
      acked = true;
      const ack = ackRespCodec.message({ seqNo: req.seqNo, payload: new Uint8Array() });
      sender.sendTo(requester.address, requester.port, ack, requesterNode);
    });
    const ping = pingCodec.message(this.ourPing(seqNo, req.node));
    sender.sendTo(formatAddr(req.target), port, ping, membership.get(req.node));
    if (req.nack) {
      timers.after(opts.probeTimeoutMs, () => {
        if (acked) return;
        const nack = nackRespCodec.message({ seqNo: req.seqNo });
        sender.sendTo(requester.address, requester.port, nack, requesterNode);
      });
    }
  }
}
