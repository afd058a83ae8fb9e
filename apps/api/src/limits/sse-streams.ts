import { Inject, Injectable } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics } from '@amr/runtime';
import { TooManyRequests } from './rate-limits.js';

/**
 * Open SSE streams per token, on this node: a stream holds a connection and a reader of the event
 * log for as long as it lasts, so one token may hold only a few (AMR_SSE_STREAMS_PER_TOKEN).
 */
@Injectable()
export class SseStreams {
  private readonly open = new Map<string, number>();

  constructor(@Inject(AMR_CONFIG) private readonly config: AmrConfig, private readonly metrics: Metrics) {}

  /** Counts a stream of `holder` (a principal); returns its release, to call once when it ends. */
  reserve(holder: string): () => void {
    const max = this.config.httpLimits.sseStreamsPerToken;
    const count = this.open.get(holder) ?? 0;
    if (count >= max) {
      this.metrics.httpRateLimited.inc({ limit: 'sse-streams' });
      throw new TooManyRequests(
        `This token already has ${count} event streams open on this node, the most it may (AMR_SSE_STREAMS_PER_TOKEN=${max}): ` +
          'close one (one stream carries every change the token may see), or retry once one has ended',
        5,
      );
    }
    this.open.set(holder, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(holder) ?? 1) - 1;
      if (left > 0) this.open.set(holder, left);
      else this.open.delete(holder);
    };
  }
}
