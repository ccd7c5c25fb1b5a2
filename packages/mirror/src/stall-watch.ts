import type { ClientRequest, IncomingMessage } from "node:http";

/** One request watched for a stall. */
export interface Watched {
  req: ClientRequest;
  /** Set once the response headers are in: from then on, the body is watched. */
  res?: IncomingMessage;
  host: string;
  lastBytes: number;
  idleSince: number;
}

/**
 * Ends requests whose server has stalled: no response headers, or no body bytes while we want them,
 * for `timeoutMs`. One sweep every `timeoutMs / 10` looks at every request in flight (has its socket
 * read anything since?) instead of a timer per request: thousands of small packages make thousands
 * of requests, and arming and clearing two timers each cost more than the rest of the request.
 * Bytes buffered in a response mean its consumer is the slow one (backpressure paused the socket):
 * that is not a stall.
 */
export class StallWatch {
  private readonly watched = new Set<Watched>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {
    this.intervalMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 10)));
  }

  watch(req: ClientRequest, host: string): Watched {
    const entry: Watched = { req, host, lastBytes: 0, idleSince: Date.now() };
    this.watched.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      // The requests keep the process alive, not this sweep.
      this.timer.unref();
    }
    return entry;
  }

  unwatch(entry: Watched): void {
    this.watched.delete(entry);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of [...this.watched]) {
      const bytes = entry.req.socket?.bytesRead ?? 0;
      if (bytes !== entry.lastBytes || (entry.res && entry.res.readableLength > 0)) {
        entry.lastBytes = bytes;
        entry.idleSince = now;
      } else if (now - entry.idleSince >= this.timeoutMs) {
        this.unwatch(entry);
        const message = entry.res
          ? `body timeout: ${entry.host} sent nothing for ${this.timeoutMs} ms`
          : `headers timeout: no response from ${entry.host} within ${this.timeoutMs} ms`;
        // A code of Node's own, so that retries treat it like a reset.
        const err = Object.assign(new Error(message), { code: "ETIMEDOUT" });
        if (entry.res) entry.res.destroy(err);
        else entry.req.destroy(err);
      }
    }
  }

  /** Stops sweeping (the transport is closing). */
  close(): void {
    this.watched.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
