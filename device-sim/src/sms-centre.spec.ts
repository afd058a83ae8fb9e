import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './network.js';
import { SmsCentre } from './sms-centre.js';
import { SMS_DEFAULTS, type SmsParams } from './sms-model.js';

/** No network delay and no failures: the tests check where texts go, not when. */
const INSTANT: SmsParams = { ...SMS_DEFAULTS, networkMs: { min: 0, max: 0 }, gatewayMs: { min: 0, max: 0 }, firstAttemptFailure: 0 };

/** A stand-in for the platform's inbound route: records each post, answers with the next status of `statuses` (then 200). */
async function inboundRoute(statuses: number[] = []): Promise<{ url: string; posts: Array<{ auth?: string; body: unknown }>; server: Server }> {
  const posts: Array<{ auth?: string; body: unknown }> = [];
  const state = { url: '', posts, server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push({ ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body: { path: req.url, ...JSON.parse(body) } });
      res.writeHead(statuses.shift() ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe(SmsCentre.name, () => {
  it('posts a button\'s text to the platform\'s inbound route with the gateway token, again after a 503', async () => {
    const platform = await inboundRoute([503]);
    const centre = new SmsCentre(seededRandom(1), INSTANT);
    cleanup.push(() => centre.close(), () => new Promise((r) => platform.server.close(() => r())));
    await centre.listen();
    centre.connect(platform.url, 'gateway-token-0123456789');
    const final = new Promise<void>((resolve) => centre.on('posted', ({ final }) => final && resolve()));
    centre.submit('+32479000001', 'AMR1 abc.def');
    await final; // after the repost, a second later
    expect(platform.posts).toEqual([
      { auth: 'Bearer gateway-token-0123456789', body: { path: '/api/v1/sms/inbound', from: '+32479000001', text: 'AMR1 abc.def' } },
      { auth: 'Bearer gateway-token-0123456789', body: { path: '/api/v1/sms/inbound', from: '+32479000001', text: 'AMR1 abc.def' } },
    ]);
    expect(centre.stats).toMatchObject({ submitted: 1, accepted: 1, repostsToPlatform: 1 });
  });

  it('drops a text the platform refuses (4xx) and counts it', async () => {
    const platform = await inboundRoute([403]);
    const centre = new SmsCentre(seededRandom(1), INSTANT);
    cleanup.push(() => centre.close(), () => new Promise((r) => platform.server.close(() => r())));
    await centre.listen();
    centre.connect(platform.url, 'gateway-token-0123456789');
    const posted = once(centre, 'posted');
    centre.submit('+32479000001', 'AMR1 forged.text');
    expect(await posted).toEqual([{ from: '+32479000001', status: 403, final: true }]);
    expect(centre.stats).toMatchObject({ accepted: 0, refused: { 403: 1 }, repostsToPlatform: 0 });
  });

  it('takes the platform\'s {to, text} with 202 and hands the text to the registered button; counts unknown numbers', async () => {
    const centre = new SmsCentre(seededRandom(1), INSTANT);
    cleanup.push(() => centre.close());
    await centre.listen();
    const got = new Promise<string>((resolve) => centre.register('+32479000002', resolve));
    const post = (to: string) => fetch(centre.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to, text: 'AMR1 ack.mac' }) });
    expect((await post('+32479000002')).status).toBe(202);
    expect(await got).toBe('AMR1 ack.mac');
    expect((await post('+32479999999')).status).toBe(202);
    expect((await fetch(centre.url, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect(centre.stats).toMatchObject({ fromPlatform: 2, delivered: 1, unknownRecipient: 1 });
  });

  it('delays each way by the network part of the model', async () => {
    const centre = new SmsCentre(seededRandom(1), { ...INSTANT, networkMs: { min: 300, max: 300 } });
    cleanup.push(() => centre.close());
    await centre.listen();
    const started = performance.now();
    const got = new Promise<number>((resolve) => centre.register('+32479000003', () => resolve(performance.now() - started)));
    await fetch(centre.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: '+32479000003', text: 'x' }) });
    expect(await got).toBeGreaterThanOrEqual(295);
  });
});
