/**
 * Where the platform's press path spends its time, from its own metric `amr_press_step_seconds`
 * (one histogram per step: a press's wait for its batch, then per batch taking a connection,
 * BEGIN, each statement by name, COMMIT), compared between two scrapes of /metrics: the profile of
 * one bench phase, measured inside the platform rather than guessed from the outside. The same for
 * the connections' steps before their CONNACK (`amr_mqtt_connect_step_seconds`).
 */
import { histogramPercentile, type histogram } from './platform-host.js';

type Histogram = ReturnType<typeof histogram>;

/** One step of the press path, or of a connection before its CONNACK, over a run. */
export interface PressStep {
  step: string;
  /** Observations: presses for `queued`, transactions for the other press steps, connections for a connect step. */
  count: number;
  /** Mean duration, ms. */
  meanMs: number;
  /** Bucket upper bounds holding the median and the 99th percentile, ms (a histogram cannot say more). */
  p50Ms?: number;
  p99Ms?: number;
  /** Time spent in the step over the run, s (summed over the transactions running side by side). */
  totalS: number;
}

/** The histograms of a labelled Prometheus histogram, by the value of `label`. */
export function labelledHistograms(text: string, name: string, label: string): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  const get = (key: string) => {
    let h = out.get(key);
    if (!h) out.set(key, (h = { buckets: [], count: 0, sum: 0 }));
    return h;
  };
  const re = new RegExp(`^${name}_(bucket|sum|count)\\{([^}]*)\\} ([0-9.eE+-]+|NaN)$`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const labels = new Map([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    const key = labels.get(label);
    if (key === undefined) continue;
    const value = Number(m[3]);
    const h = get(key);
    if (m[1] === 'sum') h.sum = value;
    else if (m[1] === 'count') h.count = value;
    else {
      const le = labels.get('le');
      h.buckets.push([le === '+Inf' ? Infinity : Number(le), value]);
    }
  }
  for (const h of out.values()) h.buckets.sort((a, b) => a[0] - b[0]);
  return out;
}

/** Order of the steps in a transaction; steps not listed (other statements) come after, by name. */
const PRESS_ORDER = ['queued', 'connection', 'begin', 'press-lock-devices', 'press-lookup', 'press-lookup-wait', 'press-case', 'press-lock-alarms', 'press-timeline-heads', 'press-write', 'press-sms', 'commit'];

/** The steps of a connection before its CONNACK (amr_mqtt_connect_step_seconds), in the order they happen. */
const CONNECT_ORDER = ['read', 'credentials', 'connack'];

/** The press path's steps observed between two scrapes, in transaction order. */
export function pressSteps(before: string, after: string): PressStep[] {
  return stepsBetween(before, after, 'amr_press_step_seconds', PRESS_ORDER);
}

/**
 * Where connections waited for their CONNACK between two scrapes (per connection: read, its
 * CONNECT read after the TCP accept; credentials, the device's lookup; connack, CONNECT read →
 * CONNACK written).
 */
export function connectSteps(before: string, after: string): PressStep[] {
  return stepsBetween(before, after, 'amr_mqtt_connect_step_seconds', CONNECT_ORDER);
}

function stepsBetween(before: string, after: string, name: string, order: string[]): PressStep[] {
  const was = labelledHistograms(before, name, 'step');
  const now = labelledHistograms(after, name, 'step');
  const empty: Histogram = { buckets: [], count: 0, sum: 0 };
  // a step of several statements sent together ('begin + press-lookup') ranks as its first known one
  const rank = (step: string) => {
    const known = step.split(' + ').find((part) => order.includes(part));
    return known === undefined ? order.length : order.indexOf(known);
  };
  return [...now.entries()]
    .map(([step, h]) => {
      const b = was.get(step) ?? empty;
      const count = h.count - b.count;
      const sum = h.sum - b.sum;
      const p50 = histogramPercentile(b, h, 50);
      const p99 = histogramPercentile(b, h, 99);
      return {
        step,
        count,
        meanMs: count > 0 ? (sum / count) * 1000 : 0,
        ...(p50 !== undefined && Number.isFinite(p50) ? { p50Ms: p50 * 1000 } : {}),
        ...(p99 !== undefined && Number.isFinite(p99) ? { p99Ms: p99 * 1000 } : {}),
        totalS: sum,
      };
    })
    .filter((s) => s.count > 0)
    .sort((a, b) => rank(a.step) - rank(b.step) || a.step.localeCompare(b.step));
}
