/**
 * memberlist's TransmitLimitedQueue: gossip broadcasts, each retransmitted `retransmitMult ·
 * ceil(log10(n + 1))` times, fewest transmissions first (then larger, then newer messages). A new
 * broadcast about a node replaces any queued one about the same node.
 */

interface Queued {
  node: string;
  message: Buffer;
  transmits: number;
  id: number;
  onDone: (() => void) | undefined;
}

export function retransmitLimit(retransmitMult: number, numNodes: number): number {
  return retransmitMult * Math.ceil(Math.log10(numNodes + 1));
}

export class BroadcastQueue {
  private items: Queued[] = [];
  private nextId = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Queues `message` about `node`; `onDone` runs once it has been sent enough times or is replaced. */
  queue(node: string, message: Buffer, onDone?: () => void): void {
    const replaced = this.items.filter((item) => item.node === node);
    this.items = this.items.filter((item) => item.node !== node);
    for (const item of replaced) item.onDone?.();
    this.items.push({ node, message, transmits: 0, id: this.nextId++, onDone });
  }

  /** Takes broadcasts that fit in `limit` bytes, counting `overhead` bytes per message. */
  take(overhead: number, limit: number): Buffer[] {
    if (this.items.length === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    const ordered = [...this.items].sort(
      (a, b) => a.transmits - b.transmits || b.message.length - a.message.length || b.id - a.id,
    );
    const out: Buffer[] = [];
    let used = 0;
    for (const item of ordered) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      if (item.message.length > free) continue;
      used += overhead + item.message.length;
      out.push(item.message);
      item.transmits++;
      if (item.transmits >= transmitLimit) {
        this.items = this.items.filter((other) => other !== item);
        item.onDone?.();
      }
    }
    return out;
  }

  /** Drops everything without calling `onDone` (shutdown). */
  clear(): void {
    this.items = [];
  }
}
