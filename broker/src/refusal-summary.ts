import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics } from '@amr/runtime';

/**
 * Refusals are counted in the metrics, one by one, and logged as one line per kind per interval —
 * "refused 1234 CONNECTs in the last 60 s: bad-secret 1200, unknown-device 34" — never a line per
 * attempt, which would let anyone fill the log. The counters are the one record; this reads them.
 */
@Injectable()
export class RefusalSummary implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MqttRefusals');
  private timer: NodeJS.Timeout | undefined;
  private readonly kinds: { what: string; counter: Counter<string>; last: Map<string, number> }[];

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    metrics: Metrics,
  ) {
    this.kinds = [
      { what: 'CONNECTs', counter: metrics.connectRefused, last: new Map() },
      { what: 'connections at their limits', counter: metrics.connectionsClosed, last: new Map() },
      { what: 'PUBLISHes', counter: metrics.publishRefused, last: new Map() },
      { what: 'SUBSCRIBEs', counter: metrics.subscribeRefused, last: new Map() },
    ];
  }

  onApplicationBootstrap(): void {
    const everyS = this.config.log.refusalSummaryS;
    this.timer = setInterval(() => void this.summarise(everyS), everyS * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One line per kind that had refusals since the last call. */
  async summarise(everyS: number): Promise<void> {
    for (const kind of this.kinds) {
      const byReason = new Map<string, number>();
      for (const value of (await kind.counter.get()).values) {
        const reason = String(value.labels.reason ?? 'not its own topic');
        byReason.set(reason, (byReason.get(reason) ?? 0) + value.value);
      }
      const delta = [...byReason].map(([reason, n]) => [reason, n - (kind.last.get(reason) ?? 0)] as const).filter(([, n]) => n > 0);
      kind.last = byReason;
      const total = delta.reduce((sum, [, n]) => sum + n, 0);
      if (total === 0) continue;
      const reasons = delta.sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ');
      this.logger.warn(`refused ${total} ${kind.what} in the last ${everyS} s: ${reasons}`);
    }
  }
}
