import type { AckRegistry } from "./ack-registry.js";
import type { ResolvedMemberOptions } from "./member-options.js";
import type { Membership } from "./membership.js";
import type { PacketSender } from "./packet-sender.js";
import type { StreamCodecOptions } from "./stream.js";
import type { Timers } from "./timers.js";
import type { Transport } from "./transport.js";

/** Where peers reach us. */
export interface Advertise {
  address: string;
  /** `address` in wire form (4 or 16 bytes). */
  addr: Buffer;
  port: number;
}

/** What a member's parts (failure detector, push/pull) share. */
export interface MemberContext {
  readonly opts: ResolvedMemberOptions;
  readonly timers: Timers;
  readonly membership: Membership;
  readonly acks: AckRegistry;
  readonly sender: PacketSender;
  readonly advertise: Advertise;
  /** Started and not shut down. */
  readonly running: boolean;
  readonly transport: Transport | undefined;
  readonly codec: StreamCodecOptions;
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
