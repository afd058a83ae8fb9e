import type { usePlatform } from './platform.js';

type Suite = ReturnType<typeof usePlatform>;

/** The values of one of the running platform's metrics (prom-client's `get()`), empty if it has none. */
async function values(suite: Suite, name: string): Promise<Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>> {
  const metric = await suite.platform.running.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []) as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
}

/** An unlabelled histogram's observation count and sum so far. */
export async function histogramCount(suite: Suite, name: string): Promise<{ count: number; sum: number }> {
  const all = await values(suite, name);
  const value = (suffix: string) => all.find((v) => v.metricName === `${name}_${suffix}`)?.value ?? 0;
  return { count: value('count'), sum: value('sum') };
}

/** A labelled histogram's observation count per value of `label`. */
export async function countsBy(suite: Suite, name: string, label: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const v of await values(suite, name)) if (v.metricName === `${name}_count`) counts.set(String(v.labels[label]), v.value);
  return counts;
}
