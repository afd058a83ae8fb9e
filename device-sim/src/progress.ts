/**
 * The progress bar on stderr while a scenario runs: redrawn in place on a terminal, one line
 * every few seconds otherwise (CI logs).
 */
export class Progress {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly everyMs = 5000,
  ) {}

  /** `fraction` 0–1 of the phase; `text` what it is doing. */
  update(label: string, fraction: number, text: string): void {
    const now = Date.now();
    const f = Math.min(1, Math.max(0, fraction));
    const width = 24;
    const filled = Math.round(f * width);
    const line = `${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)} %  ${text}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (now - this.last >= this.everyMs || f >= 1) {
      this.stream.write(`${line}\n`);
      this.last = now;
    }
  }

  /** Ends the bar's line (before other output). */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
    this.last = 0;
  }
}
