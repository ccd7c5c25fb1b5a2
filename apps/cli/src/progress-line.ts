/**
 * One transient status line on a terminal, redrawn in place. It is cut to the terminal's width (a
 * wrapped line cannot be redrawn) and erased before any other output, so that output and the
 * final line are never mixed with a stale frame. Off a terminal, it draws nothing.
 */
export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  draw(text: string): void {
    if (!this.stream.isTTY) return;
    const width = Math.max(10, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width) : text}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
