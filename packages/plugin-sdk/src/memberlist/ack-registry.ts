import type { Timers } from "./timers.js";

interface AckHandler {
  onAck(payload: Uint8Array, at: number): void;
  onNack: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Pending probes by sequence number (memberlist's ackHandlers): each expires after its timeout. */
export class AckRegistry {
  private readonly handlers = new Map<number, AckHandler>();
  private seqNo = 0;

  constructor(private readonly timers: Timers) {}

  /** The next ping sequence number (uint32, wrapping). */
  nextSeq(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  /** Waits for the ack of `seqNo` for `timeoutMs`; `onNack` may run several times (one per helper). */
  expect(
    seqNo: number,
    timeoutMs: number,
    onAck: AckHandler["onAck"],
    onNack?: () => void,
    onTimeout?: () => void,
  ): void {
    const handler: AckHandler = { onAck, onNack, timer: undefined };
    handler.timer = this.timers.after(timeoutMs, () => {
      if (this.handlers.get(seqNo) === handler) this.handlers.delete(seqNo);
      onTimeout?.();
    });
    this.handlers.set(seqNo, handler);
  }

  ack(seqNo: number, payload: Uint8Array, at: number): void {
    const handler = this.handlers.get(seqNo);
    if (!handler) return;
    this.handlers.delete(seqNo);
    this.timers.clear(handler.timer);
    handler.onAck(payload, at);
  }

  nack(seqNo: number): void {
    this.handlers.get(seqNo)?.onNack?.();
  }

  clear(): void {
    for (const handler of this.handlers.values()) this.timers.clear(handler.timer);
    this.handlers.clear();
  }
}
