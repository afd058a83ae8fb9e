import { describe, expect, it } from '@jest/globals';
import { ApiClient, type FetchLike } from './api.js';
import { closeOpenAlarms, type OpenAlarm } from './cic-cleanup.js';

/**
 * A platform's open alarms behind the list and close routes: the list gives at most `page`
 * (newest first); a close takes the alarm out of it, unless that alarm's close is refused.
 */
function fakePlatform(open: OpenAlarm[], options: { page?: number; refuse?: Set<string> } = {}) {
  const closes: Array<{ id: string; body: unknown }> = [];
  let lists = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch: FetchLike = async (url, init) => {
    const { pathname, search } = new URL(url);
    if (init.method === 'GET' && pathname === '/api/v1/alarms') {
      lists += 1;
      expect(search).toBe('?state=open&limit=1000');
      return json(200, open.slice(0, options.page ?? 1000));
    }
    const id = /^\/api\/v1\/alarms\/([^/]+)\/close$/.exec(pathname)?.[1];
    if (init.method !== 'POST' || id === undefined) return json(404, { message: `no route ${pathname}` });
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    closes.push({ id, body: JSON.parse(init.body as string) });
    if (options.refuse?.has(id)) return json(409, { message: `Alarm ${id} is closed; it cannot become closed` });
    open.splice(open.findIndex((a) => a.id === id), 1);
    return json(200, {});
  };
  return { api: new ApiClient('http://platform', 'admin', { fetch }), closes, lists: () => lists, maxInFlight: () => maxInFlight };
}

const alarms = (n: number, deviceId = (i: number) => `d${i}`): OpenAlarm[] => Array.from({ length: n }, (_, i) => ({ id: `a${i}`, deviceId: deviceId(i) }));

describe(closeOpenAlarms.name, () => {
  it('closes every open alarm, page after page, with the outcome given and bounded concurrency', async () => {
    const platform = fakePlatform(alarms(25), { page: 10 });

    const figure = await closeOpenAlarms(platform.api, { outcome: 'left open by an earlier run', concurrency: 4 });

    expect(figure).toMatchObject({ closed: 25, refused: 0 });
    expect(figure.firstError).toBeUndefined();
    expect(new Set(platform.closes.map((c) => c.id)).size).toBe(25);
    expect(platform.closes[0]!.body).toEqual({ outcome: 'left open by an earlier run' });
    expect(platform.lists()).toBe(4); // three pages, then an empty list
    expect(platform.maxInFlight()).toBe(4);
  });

  it('counts refusals, tries each alarm once, and stops when only refused ones are left', async () => {
    const platform = fakePlatform(alarms(5), { refuse: new Set(['a1', 'a3']) });

    const figure = await closeOpenAlarms(platform.api, { outcome: 'simulated' });

    expect(figure).toMatchObject({ closed: 3, refused: 2, firstError: 'POST /api/v1/alarms/a1/close: HTTP 409: Alarm a1 is closed; it cannot become closed' });
    expect(platform.closes).toHaveLength(5);
    expect(platform.lists()).toBe(2);
  });

  it('closes only the alarms `owned` accepts (on a platform it did not start, the bench\'s devices\' alone)', async () => {
    const open = alarms(6, (i) => (i % 2 ? 'theirs' : `mine-${i}`));
    const platform = fakePlatform(open);

    const figure = await closeOpenAlarms(platform.api, { outcome: 'simulated', owned: (a) => a.deviceId?.startsWith('mine') ?? false });

    expect(figure).toMatchObject({ closed: 3, refused: 0 });
    expect(open.map((a) => a.deviceId)).toEqual(['theirs', 'theirs', 'theirs']);
  });

  it('closes nothing when nothing is open', async () => {
    const platform = fakePlatform([]);
    expect(await closeOpenAlarms(platform.api, { outcome: 'simulated' })).toMatchObject({ closed: 0, refused: 0 });
    expect(platform.closes).toHaveLength(0);
  });
});
