import { describe, expect, it } from '@jest/globals';
import { ApiClient, type FetchLike } from './api.js';
import { DeliveryConfirmations, type DeliveryCounts } from './cic-delivery.js';
import { eventually } from '../../test/support/eventually.js';

interface Call {
  path: string;
  token: string;
}

/** One fake platform behind every client: records each call with its token; while held, answers none. */
class FakePlatform {
  readonly calls: Call[] = [];
  inFlight = 0;
  private held: Array<() => void> | undefined;

  constructor(private readonly status: (path: string) => number = () => 200) {}

  readonly fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    this.calls.push({ path, token: (init.headers as Record<string, string>).authorization!.replace('Bearer ', '') });
    this.inFlight += 1;
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    this.inFlight -= 1;
    const status = this.status(path);
    return new Response(JSON.stringify(status < 300 ? {} : { message: `refused ${path}` }), { status, headers: { 'content-type': 'application/json' } });
  };

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }
}

function clients(fetch: FetchLike, cics: string[]): (cicId: string | undefined) => ApiClient | undefined {
  const byCic = new Map(cics.map((c) => [c, new ApiClient('http://platform', `token-${c}`, { fetch })]));
  return (cicId) => (cicId === undefined ? undefined : byCic.get(cicId));
}

describe(DeliveryConfirmations.name, () => {
  it('confirms each alarm with its own CIC\'s token, once per CIC: again at the CIC it was handed over to', async () => {
    const platform = new FakePlatform();
    const counts: DeliveryCounts = { delivered: 0, deliveryErrors: [] };
    const confirmations = new DeliveryConfirmations(clients(platform.fetch, ['cic-antwerpen', 'cic-limburg']), counts);

    confirmations.confirm({ id: 'a1', cicId: 'cic-antwerpen' });
    confirmations.confirm({ id: 'a2', cicId: 'cic-limburg' });
    confirmations.confirm({ id: 'a1', cicId: 'cic-antwerpen' }); // the same announcement again (a sweep)
    confirmations.confirm({ id: 'a1', cicId: 'cic-limburg' }); // handed over
    await eventually(async () => confirmations.idle, (idle) => idle);

    expect(platform.calls).toEqual([
      { path: '/api/v1/alarms/a1/delivered', token: 'token-cic-antwerpen' },
      { path: '/api/v1/alarms/a2/delivered', token: 'token-cic-limburg' },
      { path: '/api/v1/alarms/a1/delivered', token: 'token-cic-limburg' },
    ]);
    expect(counts).toEqual({ delivered: 3, deliveryErrors: [] });
  });

  it('counts a refusal, and an alarm of a CIC without an integration, without calling for it', async () => {
    const platform = new FakePlatform((path) => (path.includes('/a2/') ? 403 : 200));
    const counts: DeliveryCounts = { delivered: 0, deliveryErrors: [] };
    const confirmations = new DeliveryConfirmations(clients(platform.fetch, ['cic-antwerpen']), counts);

    confirmations.confirm({ id: 'a1', cicId: 'cic-antwerpen' });
    confirmations.confirm({ id: 'a2', cicId: 'cic-antwerpen' });
    confirmations.confirm({ id: 'a3', cicId: 'cic-nowhere' });
    await eventually(async () => confirmations.idle, (idle) => idle);

    expect(platform.calls.map((c) => c.path)).toEqual(['/api/v1/alarms/a1/delivered', '/api/v1/alarms/a2/delivered']);
    expect(counts.delivered).toBe(1);
    expect(counts.deliveryErrors).toEqual([
      'alarm a3: no integration of CIC cic-nowhere to confirm its delivery',
      'POST /api/v1/alarms/a2/delivered: HTTP 403: refused /api/v1/alarms/a2/delivered',
    ]);
  });

  it('keeps at most `concurrency` confirmations in flight; the rest wait their turn', async () => {
    const platform = new FakePlatform();
    platform.hold();
    const counts: DeliveryCounts = { delivered: 0, deliveryErrors: [] };
    const confirmations = new DeliveryConfirmations(clients(platform.fetch, ['cic-antwerpen']), counts, 3);

    for (let i = 0; i < 50; i++) confirmations.confirm({ id: `a${i}`, cicId: 'cic-antwerpen' });
    await eventually(async () => platform.inFlight, (n) => n === 3);
    expect(platform.calls).toHaveLength(3);
    expect(confirmations.idle).toBe(false);

    platform.release();
    await eventually(async () => confirmations.idle, (idle) => idle);
    expect(counts.delivered).toBe(50);
  });

  it('drops what is queued when stopped, and waits for what is in flight', async () => {
    const platform = new FakePlatform();
    platform.hold();
    const counts: DeliveryCounts = { delivered: 0, deliveryErrors: [] };
    const confirmations = new DeliveryConfirmations(clients(platform.fetch, ['cic-antwerpen']), counts, 2);
    for (let i = 0; i < 10; i++) confirmations.confirm({ id: `a${i}`, cicId: 'cic-antwerpen' });
    await eventually(async () => platform.inFlight, (n) => n === 2);

    const stopped = confirmations.stop();
    platform.release();
    await stopped;

    expect(platform.calls).toHaveLength(2);
    expect(counts.delivered).toBe(2);
    expect(confirmations.idle).toBe(true);
  });
});
