/**
 * A button's ordered list of broker endpoints (CONTRACT §1: when a connection fails it tries the
 * next; every node accepts every device). Pure: which endpoint the next attempt goes to, and how
 * long to wait before it.
 *
 * The firmware's rule, as modelled here: a connection that fails or is lost moves the button on
 * to the next endpoint of the list (wrapping around), so it starts from where it was rather
 * than from the top of the list. The back-off is the button's usual one (1 s, 2 s … 30 s), but
 * it only doubles once the whole list has failed in a row: a dead node says nothing about the
 * next one, so that one is tried after the first short wait, while a platform that is down as a
 * whole is not hammered. With one endpoint this is exactly the single-broker back-off.
 */

export interface BackoffSettings {
  /** Wait before the first attempt after a loss, ms. */
  firstMs: number;
  /** The longest wait, ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffSettings> = Object.freeze({ firstMs: 1000, maxMs: 30_000 });

export class EndpointChoice {
  private index: number;
  /** Failures since the last successful connection. */
  private failures = 0;
  private waitMs: number;

  constructor(
    readonly count: number,
    private readonly backoff: BackoffSettings = DEFAULT_BACKOFF,
    start = 0,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`an endpoint list needs at least one endpoint, got ${count}`);
    this.index = ((start % count) + count) % count;
    this.waitMs = backoff.firstMs;
  }

  /** The endpoint the next (or the current) connection goes to. */
  get current(): number {
    return this.index;
  }

  /**
   * The connection to the current endpoint failed or was lost: the next attempt goes to the next
   * endpoint, after `waitMs` (before jitter). Doubles the wait once a whole round has failed.
   */
  failed(): { next: number; waitMs: number } {
    this.index = (this.index + 1) % this.count;
    this.failures += 1;
    const waitMs = this.waitMs;
    if (this.failures % this.count === 0) this.waitMs = Math.min(this.waitMs * 2, this.backoff.maxMs);
    return { next: this.index, waitMs };
  }

  /** A connection to the current endpoint was accepted: it stays, and the back-off starts over. */
  connected(): void {
    this.failures = 0;
    this.waitMs = this.backoff.firstMs;
  }
}

/**
 * `URL1,URL2,…` → the URLs, each checked by `check` (which throws its own usage error). Empty
 * items and repeated endpoints are refused: a list that names one node twice would hide a
 * missing second one.
 */
export function parseUrlList(name: string, value: string, check: (url: string) => string, fail: (message: string) => never): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) fail(`${name}: a comma-separated list of URLs without empty items, got ${JSON.stringify(value)}`);
  const urls = items.map(check);
  const seen = new Set<string>();
  for (const url of urls) {
    const parsed = new URL(url);
    const key = `${parsed.protocol}//${parsed.host}`;
    if (seen.has(key)) fail(`${name}: ${parsed.host} is listed twice`);
    seen.add(key);
  }
  return urls;
}

/** `mqtt://host:port` → where to open a socket (default ports 1883, 8883 with TLS). */
export function brokerAddress(url: string): { host: string; port: number; tls: boolean } {
  const u = new URL(url);
  const tls = ['mqtts:', 'ssl:', 'tls:'].includes(u.protocol);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (tls ? 8883 : 1883)), tls };
}

/**
 * `--mqtt URL[,URL…]`: one broker, or an ordered list of them. A list takes mqtt:// or mqtts://
 * URLs (the button opens each transport itself) and one kind for all of them: a button either
 * verifies its brokers with TLS or it does not.
 */
export function parseMqttList(value: string, check: (url: string) => string, fail: (message: string) => never): string[] {
  const urls = parseUrlList('--mqtt', value, check, fail);
  if (urls.length === 1) return urls;
  const kinds = new Set(
    urls.map((url) => {
      const protocol = new URL(url).protocol;
      if (protocol === 'ws:' || protocol === 'wss:') fail(`--mqtt: a list of brokers takes mqtt:// or mqtts:// URLs, got ${url}`);
      return brokerAddress(url).tls;
    }),
  );
  if (kinds.size > 1) fail('--mqtt: the brokers of a list are all mqtt:// or all mqtts://');
  return urls;
}
