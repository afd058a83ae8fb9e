/**
 * What a person reads: one line per event, a summary at the end. With --json the human lines go
 * to stderr and stdout carries only the JSON result, so that it can be piped.
 */
import type { Encoding } from '@amr/protocol';
import type { AckEvent } from './button.js';
import type { LatencySummary } from './stats.js';

export class Reporter {
  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  /** A human line (stdout, or stderr in --json mode). */
  line(text: string): void {
    (this.json ? this.err : this.out).write(`${text}\n`);
  }

  /** Where the progress bar goes (stderr). */
  get progressStream(): NodeJS.WritableStream {
    return this.err;
  }

  /** A problem: always stderr. */
  error(text: string): void {
    this.err.write(`${text}\n`);
  }

  /** The machine-readable result: stdout, --json mode only. */
  result(document: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(document)}\n`);
  }
}

export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(1)} ms`;
}

/** A duration for tables: `0.27 ms`, `18.4 ms`, `4.60 s`. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;
}

/**
 * Rows as aligned text columns under a header line; numbers and durations are right-aligned. A
 * header of empty names (a two-column list of facts) prints no header and aligns left.
 */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const facts = head.every((h) => h === '');
  const numeric = (v: string) => !facts && (/^[≤×~]?\s?[-\d.,]+( ?(ms|s|%|MiB|KiB))?$/.test(v) || v === '—');
  const line = (row: readonly string[]) =>
    row
      .map((v, i) => (numeric(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = facts ? [] : [head.map((h, i) => h.padEnd(widths[i]!)).join('  ').trimEnd(), widths.map((w) => '─'.repeat(w)).join('  ')];
  return [...header, ...rows.map(line)];
}

/** `3f1c2a9e…` */
export function shortId(id: string): string {
  return id.length > 9 ? `${id.slice(0, 8)}…` : id;
}

/** `press #12   received   vibration short     18.4 ms  alarm 3f1c2a9e…` */
export function formatAck(event: AckEvent, deviceEncoding?: Encoding): string {
  const { ack } = event;
  let line = [
    `press ${ack.seq === undefined ? '?' : `#${ack.seq}`}`.padEnd(12),
    ack.stage.padEnd(11),
    `vibration ${ack.vib}`.padEnd(17),
    ms(event.latencyMs).padStart(10),
  ].join(' ');
  if (ack.alarm !== undefined) line += `  alarm ${shortId(ack.alarm)}`;
  if (ack.reason !== undefined) line += `  reason: ${ack.reason}`;
  if (event.repeat) line += '  (again)';
  if (!event.known && ack.seq !== undefined) line += '  (not pressed in this run)';
  if (deviceEncoding !== undefined && event.encoding !== deviceEncoding) line += `  [ack in ${event.encoding}]`;
  return line;
}

export interface PressCounts {
  sent: number;
  received: number;
  rejected: number;
  lost: number;
  aborted: number;
  retransmissions: number;
}

export function formatSummary(counts: PressCounts, latency: LatencySummary, operatorFailures = 0): string[] {
  const parts = [
    `${counts.sent} ${counts.sent === 1 ? 'press' : 'presses'} sent`,
    `${counts.received} received`,
    `${counts.lost} lost`,
    `${counts.rejected} rejected`,
  ];
  if (counts.aborted > 0) parts.push(`${counts.aborted} interrupted`);
  parts.push(`${counts.retransmissions} ${counts.retransmissions === 1 ? 'retransmission' : 'retransmissions'}`);
  if (operatorFailures > 0) parts.push(`${operatorFailures} operator ${operatorFailures === 1 ? 'sequence' : 'sequences'} failed`);
  const lines = [`summary   ${parts.join(', ')}`];
  lines.push(
    latency.count === 0
      ? 'latency   press → received: no samples'
      : `latency   press → received (n=${latency.count}): p50 ${ms(latency.p50)}  p90 ${ms(latency.p90)}  p99 ${ms(latency.p99)}  max ${ms(latency.max)}`,
  );
  return lines;
}
