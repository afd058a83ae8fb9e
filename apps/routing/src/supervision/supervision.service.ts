import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, Metrics, PlatformEvents } from '@amr/runtime';
import { alertView, type AlertRecord, type AlertView } from '@amr/alarms';
import { clearSql, raiseSql, supervisionRules, type SupervisionRule } from './supervision.rules.js';
import { alertEvent } from '@amr/alarms';
import { FloodingAlerts } from './flooding-alerts.js';

export interface SweepResult {
  raised: AlertView[];
  cleared: AlertView[];
}
import { Periodic } from '../periodic.js';

/**
 * Device supervision (docs/supervision.md): a button that has died silently must not leave
 * its victim believing she is protected. Every AMR_SUPERVISION_SWEEP_MS, for each rule (silent,
 * low-battery, missed-self-test), one statement clears the open alerts that no longer hold and one
 * raises the alerts that now do, for every device at once: a mast outage silencing thousands of
 * buttons is one INSERT … SELECT. Deadlines are derived from stored state (`last_seen_at`, battery,
 * the last self-test), so a restart loses none, and several nodes may sweep (the partial unique
 * index and `cleared_at IS NULL` make each raise and clear happen once).
 *
 * A technical alert is not an alarm: it is never dispatched, only shown to the case's home CIC.
 */
@Injectable()
export class SupervisionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Supervision');
  private readonly rules: SupervisionRule[];
  private readonly periodic = new Periodic(
    () => this.sweep(),
    (err) => this.logger.error(`supervision sweep failed: ${String(err)}`),
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly events: PlatformEvents,
    private readonly metrics: Metrics,
    private readonly flooding: FloodingAlerts,
  ) {
    this.rules = supervisionRules(config.supervision);
  }

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.supervision.sweepMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  /** Checks every supervised device once; clears first, so a restored device is never raised again. */
  async sweep(now = new Date()): Promise<SweepResult> {
    const started = process.hrtime.bigint();
    const result: SweepResult = { raised: [], cleared: [] };
    // Each raise and clear is written with its event: any number of nodes may sweep, each change is announced once.
    await this.db.transaction(async (tx) => {
      const execute = (text: string, values: unknown[]) => tx.query(text, values);
      for (const rule of this.rules) {
        const params = rule.param === undefined ? [now] : [now, rule.param];
        const cleared = ((await tx.query(clearSql(rule), params)) as AlertRecord[]).map(alertView);
        const raised = ((await tx.query(raiseSql(rule), params)) as AlertRecord[]).map(alertView);
        result.cleared.push(...cleared);
        result.raised.push(...raised);
      }
      result.cleared.push(...(await this.flooding.clearQuiet(execute, now)));
      await PlatformEvents.append(execute, [
        ...result.cleared.map((a) => alertEvent('alert.cleared', a)),
        ...result.raised.map((a) => alertEvent('alert.raised', a)),
      ]);
    });
    if (result.raised.length + result.cleared.length > 0) this.events.committed();
    this.metrics.supervisionSweep.observe(Number(process.hrtime.bigint() - started) / 1e9);
    for (const alert of result.cleared) this.metrics.alertsCleared.inc({ type: alert.type });
    for (const alert of result.raised) this.metrics.alertsRaised.inc({ type: alert.type });
    if (result.raised.length > 0) {
      this.logger.warn(`${result.raised.length} technical alert(s) raised: ${summary(result.raised)}`);
    }
    return result;
  }

}

function summary(alerts: AlertView[]): string {
  const counts = new Map<string, number>();
  for (const a of alerts) counts.set(a.type, (counts.get(a.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${n} ${type}`).join(', ');
}
