/**
 * Server-Sent Events over fetch. The browser's EventSource cannot send an Authorization header,
 * and a token in the URL would end up in logs, so the console reads the stream itself: a small
 * parser of the event-stream format (WHATWG HTML, "Interpreting an event stream") and a client that
 * reconnects and resumes with Last-Event-ID. No DOM: runs in a browser and in Node alike.
 *
 * The parser is this file's own, not eventsource-parser as on the Node side (device-sim, tests):
 * the console is served as the ES modules tsc emits, with no bundler, and a browser cannot resolve
 * the bare specifier `eventsource-parser`. Using the package would mean copying its file into the
 * served directory and an inline import map, which the page's CSP (`script-src 'self'`) refuses
 * unless its hash is pinned there; a parser of seventy lines, tested in sse.spec.ts,
 * costs less than that machinery.
 */

export interface SseMessage {
  /** `event:` field, or `message` when absent. */
  event: string;
  data: string;
  /** The last event id after this message (what a reconnecting client sends), if any. */
  id?: string;
}

/** Incremental parser: feed it text as it arrives, get the complete messages back. */
export class SseParser {
  private buffer = '';
  private skipLf = false;
  private event = '';
  private data: string[] = [];
  private hasData = false;
  /** The stream's last event id so far (an `id:` field persists across messages). */
  lastEventId: string | undefined;

  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = this.buffer + chunk;
    this.buffer = '';
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(text.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 === text.length) this.skipLf = true; // a CRLF split between two chunks
        else if (text[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = text.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') return this.dispatch(out);
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      // `retry:` is not read: the platform never sends it, and EventStream keeps its own schedule
    }
  }

  private dispatch(out: SseMessage[]): void {
    if (this.hasData) {
      const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.lastEventId !== undefined) message.id = this.lastEventId;
      out.push(message);
    }
    this.event = '';
    this.data = [];
    this.hasData = false;
  }
}

export type StreamState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'retrying'; inMs: number; reason: string }
  | { state: 'refused'; status: number; reason: string };

export interface EventStreamOptions {
  url: string;
  token: string;
  onMessage: (message: SseMessage) => void;
  onState?: (state: StreamState) => void;
  /** Resume after this event id. */
  lastEventId?: string;
  /** Delays before successive reconnection attempts; the last one repeats. */
  retryDelaysMs?: readonly number[];
  /** A stream silent for this long is taken for dead (the server sends a keep-alive every 15 s). */
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Statuses after which reconnecting cannot help: the token is wrong or revoked. */
const FINAL_STATUSES = new Set([401, 403]);

/** A live event stream: reconnects after any failure and resumes where it stopped. */
export class EventStream {
  private stopped = false;
  private abort: AbortController | null = null;
  private attempt = 0;
  private wake: (() => void) | null = null;
  lastEventId: string | undefined;

  constructor(private readonly options: EventStreamOptions) {
    this.lastEventId = options.lastEventId;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { retryDelaysMs = [500, 1000, 2000, 5000, 10000] } = this.options;
    while (!this.stopped) {
      let reason: string;
      try {
        reason = await this.once();
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (this.stopped) return;
      const inMs = retryDelaysMs[Math.min(this.attempt, retryDelaysMs.length - 1)] ?? 1000;
      this.attempt++;
      this.options.onState?.({ state: 'retrying', inMs, reason });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, inMs);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = null;
    }
  }

  /** One connection, until it ends; resolves with why it ended. */
  private async once(): Promise<string> {
    const { url, token, idleTimeoutMs = 45_000 } = this.options;
    const doFetch = this.options.fetch ?? fetch;
    this.options.onState?.({ state: 'connecting' });
    const abort = (this.abort = new AbortController());
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['Last-Event-ID'] = this.lastEventId;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), idleTimeoutMs);
    };
    armIdle();
    try {
      const res = await doFetch(url, { headers, signal: abort.signal, cache: 'no-store' });
      if (FINAL_STATUSES.has(res.status)) {
        this.stopped = true;
        this.options.onState?.({ state: 'refused', status: res.status, reason: await errorMessage(res) });
        return 'refused';
      }
      if (!res.ok || !res.body) return `HTTP ${res.status}: ${await errorMessage(res)}`;
      this.options.onState?.({ state: 'live' });
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'the server ended the stream';
        armIdle();
        for (const message of parser.feed(value)) {
          this.attempt = 0; // this connection delivers: the next failure retries quickly
          if (message.id !== undefined) this.lastEventId = message.id;
          this.options.onMessage(message);
        }
      }
    } catch (err) {
      if (abort.signal.aborted && !this.stopped) return `no data for ${Math.round(idleTimeoutMs / 1000)} s`;
      throw err;
    } finally {
      clearTimeout(idle);
    }
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200) || res.statusText;
}
