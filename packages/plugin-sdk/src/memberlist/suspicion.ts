import type { Timers } from "./timers.js";

/**
 * memberlist's suspicion timer (suspicion.go, Lifeguard): a suspected node is declared dead after `max`;
 * each independent confirmation (up to `k`) shortens that towards `min` on a log scale.
 */
export function suspicionTimeoutMs(suspicionMult: number, numNodes: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, numNodes)));
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000;
}

export function remainingSuspicionMs(
  n: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}

export class Suspicion {
  private readonly confirmations = new Set<string>();
  private readonly start = Date.now();
  private handle: NodeJS.Timeout | undefined;
  private fired = false;

  constructor(
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly timers: Timers,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    this.confirmations.add(from);
    this.arm(k < 1 ? minMs : maxMs);
  }

  private arm(ms: number): void {
    this.timers.clear(this.handle);
    this.handle = this.timers.after(ms, () => {
      if (this.fired) return;
      this.fired = true;
      this.onTimeout(this.confirmations.size - 1);
    });
  }

  /** Records a confirmation from another node; true when it was new (and is worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.confirmations.size - 1 >= this.k || this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    const remaining = remainingSuspicionMs(
      this.confirmations.size - 1,
      this.k,
      Date.now() - this.start,
      this.minMs,
      this.maxMs,
    );
    this.arm(Math.max(0, remaining));
    return true;
  }

  cancel(): void {
    this.fired = true;
    this.timers.clear(this.handle);
  }
}
