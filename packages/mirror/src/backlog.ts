/**
 * A budget of bytes held in memory: `reserve` waits while taking `n` more would exceed `limit`
 * (one item alone always fits, however big), `release` gives them back.
 */
export class Backlog {
  private held = 0;
  private readonly waiting: { n: number; resume: () => void }[] = [];

  constructor(private readonly limit: number) {}

  async reserve(n: number): Promise<void> {
    if (this.waiting.length === 0 && (this.held === 0 || this.held + n <= this.limit)) {
      this.held += n;
      return;
    }
    await new Promise<void>((resume) => this.waiting.push({ n, resume }));
  }

  release(n: number): void {
    this.held -= n;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.held > 0 && this.held + next.n > this.limit) break;
      this.waiting.shift();
      this.held += next.n;
      next.resume();
    }
  }

  /** Bytes reserved now. */
  get size(): number {
    return this.held;
  }
}
