import type { BeskarMeta } from "../beskar-meta.js";
import { decodeBeskarMeta } from "../gob.js";
import { formatAddr } from "./addresses.js";
import type { NodeRecord } from "./membership.js";

export type NodeState = "alive" | "suspect" | "dead" | "left";

const STATE_NAMES: readonly NodeState[] = ["alive", "suspect", "dead", "left"];

/** A snapshot of a cluster node, as join/leave/update events and `Member.members()` report it. */
export interface MemberNode {
  name: string;
  /** The node's advertised IP address. */
  address: string;
  /** Its gossip port (UDP and TCP). */
  port: number;
  state: NodeState;
  incarnation: number;
  /** True for this member itself. */
  local: boolean;
  /** The node Meta as received. */
  rawMeta: Buffer;
  /** `rawMeta` decoded as Beskar's gob `BeskarMeta`; undefined when empty or undecodable. */
  meta: BeskarMeta | undefined;
  /** Why `rawMeta` did not decode, when it did not. */
  metaError: string | undefined;
  /** Memberlist protocol versions it speaks: [min, max, current]. */
  protocol: readonly [number, number, number];
  /** Delegate protocol versions: [min, max, current]. */
  delegateProtocol: readonly [number, number, number];
}

export function toMemberNode(record: NodeRecord, selfName: string): MemberNode {
  let meta: BeskarMeta | undefined;
  let metaError: string | undefined;
  if (record.meta.length > 0) {
    try {
      meta = decodeBeskarMeta(record.meta);
    } catch (err) {
      metaError = err instanceof Error ? err.message : String(err);
    }
  }
  const v = record.vsn;
  return {
    name: record.name,
    address: formatAddr(record.addr),
    port: record.port,
    state: STATE_NAMES[record.state] ?? "dead",
    incarnation: record.incarnation,
    local: record.name === selfName,
    rawMeta: Buffer.from(record.meta),
    meta,
    metaError,
    protocol: [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0],
    delegateProtocol: [v[3] ?? 0, v[4] ?? 0, v[5] ?? 0],
  };
}
