import { createParser } from 'eventsource-parser';

/** A Server-Sent Events reader over fetch (it can send the Authorization header). */
export interface SseEvent {
  event: string;
  data: any;
  /** The event's `id:` (log position), when it has one. */
  id?: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  private waiters: { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  private readonly abort = new AbortController();
  readonly opened: Promise<void>;
  /** Resolves when the server ends the stream (or it breaks). */
  readonly ended: Promise<void>;
  private markEnded!: () => void;

  constructor(url: string, token: string, options: { lastEventId?: string } = {}) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    this.opened = this.run(url, token, options.lastEventId);
  }

  /** The id of the last event received that had one: what a reconnecting client sends. */
  get lastEventId(): string | undefined {
    return this.events.findLast((e) => e.id !== undefined)?.id;
  }

  private async run(url: string, token: string, lastEventId: string | undefined): Promise<void> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const res = await fetch(url, { headers, signal: this.abort.signal });
    if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = createParser({
      onEvent: ({ event = 'message', data, id }) => this.dispatch({ event, data: JSON.parse(data), ...(id !== undefined ? { id } : {}) }),
    });
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          parser.feed(value);
        }
      } catch {
        /* aborted */
      } finally {
        this.markEnded();
      }
    })();
  }

  private dispatch(parsed: SseEvent): void {
    this.events.push(parsed);
    this.waiters = this.waiters.filter((w) => (w.match(parsed) ? (w.resolve(parsed), false) : true));
  }

  next(match: (e: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(', ')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  close(): void {
    this.abort.abort();
  }
}
