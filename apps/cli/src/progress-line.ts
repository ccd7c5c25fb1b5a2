/**
 * One transient status line on a terminal, redrawn in place. It is cut to the terminal's width (a
 * wrapped line cannot be redrawn), drawn at most every `intervalMs` (uploads report every chunk),
 * and erased before any other output, so that output and the final line are never mixed with a
 * stale frame. Off a terminal, it draws nothing.
 */
export class ProgressLine {
  private shown = false;
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {}

  draw(text: string): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (this.shown && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    // A pseudo-terminal may report 0 columns.
    const width = Math.max(10, (this.stream.columns || 80) - 1);
    this.stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width) : text}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
