import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics } from '@amr/runtime';

/**
 * Open SSE streams per token, on this node: a stream holds a connection and a reader of the event
 * log for as long as it lasts, so one token may hold only a few (AMR_SSE_STREAMS_PER_TOKEN). One
 * more ends the token's oldest stream rather than being refused: a CIC that reconnects is never
 * locked out by streams of its own that it has given up but the node still holds (a connection
 * that died without a close, a client that moved on), and a token still never holds more than
 * the cap.
 *
 * A node shutting down ends its streams first: its HTTP server's close waits for every open
 * connection, and a stream stays open as long as the client holds it. The CIC resumes on another
 * node from its Last-Event-ID.
 */
@Injectable()
export class SseStreams implements BeforeApplicationShutdown {
  private readonly open = new Map<string, { end: () => void }[]>();

  constructor(@Inject(AMR_CONFIG) private readonly config: AmrConfig, private readonly metrics: Metrics) {}

  /**
   * Counts a stream of `holder` (a principal), ending its oldest one (`end`) if the cap is reached;
   * returns its release, to call once when it ends.
   */
  reserve(holder: string, end: () => void): () => void {
    const max = this.config.httpLimits.sseStreamsPerToken;
    const streams = this.open.get(holder) ?? [];
    this.open.set(holder, streams);
    while (streams.length >= max) {
      this.metrics.httpRateLimited.inc({ limit: 'sse-streams' });
      streams.shift()!.end();
    }
    const stream = { end };
    streams.push(stream);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = streams.indexOf(stream);
      if (i >= 0) streams.splice(i, 1);
      if (streams.length === 0 && this.open.get(holder) === streams) this.open.delete(holder);
    };
  }

  beforeApplicationShutdown(): void {
    for (const streams of [...this.open.values()]) for (const stream of [...streams]) stream.end();
  }
}
