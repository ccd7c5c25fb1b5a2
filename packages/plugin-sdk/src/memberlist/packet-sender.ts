import type { BroadcastQueue } from "./broadcast-queue.js";
import { ENCRYPT_OVERHEAD } from "./keyring.js";
import type { ResolvedMemberOptions } from "./member-options.js";
import type { NodeRecord } from "./membership.js";
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, encodePacket, makeCompound } from "./packet.js";
import type { Transport } from "./transport.js";

/** UDP sending as memberlist's sendMsg / rawSendMsgPacket / gossip do it. */
export class PacketSender {
  constructor(
    private readonly opts: ResolvedMemberOptions,
    private readonly broadcasts: BroadcastQueue,
    private readonly transport: () => Transport | undefined,
  ) {}

  private get keyring() {
    return this.opts.verifyOutgoing ? this.opts.keyring : undefined;
  }

  /** Room for broadcasts in one packet besides `used` bytes of other content. */
  private room(used: number): number {
    return this.opts.udpBufferSize - used - COMPOUND_HEADER_OVERHEAD - (this.keyring ? ENCRYPT_OVERHEAD : 0);
  }

  /** Sends `message`, piggybacking queued broadcasts in a compound message (sendMsg). */
  sendTo(address: string, port: number, message: Buffer, node?: NodeRecord): void {
    const extra = this.broadcasts.take(COMPOUND_OVERHEAD, this.room(message.length));
    this.sendRaw(address, port, extra.length === 0 ? message : makeCompound([message, ...extra]), node);
  }

  /** Sends queued broadcasts alone (gossip); false when there was nothing to send. */
  sendBroadcasts(node: NodeRecord, address: string): boolean {
    const messages = this.broadcasts.take(COMPOUND_OVERHEAD, this.room(0));
    if (messages.length === 0) return false;
    this.sendRaw(address, node.port, messages.length === 1 ? messages[0]! : makeCompound(messages), node);
    return true;
  }

  /** Sends as is, apart from compression (when smaller), the CRC for protocol ≥ 5 peers and encryption. */
  sendRaw(address: string, port: number, message: Buffer, node?: NodeRecord): void {
    const packet = encodePacket(message, {
      compress: this.opts.enableCompression,
      crc: node !== undefined && (node.vsn[1] ?? 0) >= 5,
      keyring: this.keyring,
    });
    this.transport()?.sendPacket(packet, address, port);
  }
}
