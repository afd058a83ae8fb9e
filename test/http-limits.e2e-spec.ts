import { describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';

/**
 * HTTP limits on the real platform: slow requests cut, request rates per integration token and per
 * source address answered 429 with Retry-After — never on the routes a CIC works its alarms with —
 * and the SSE streams of one token capped.
 */
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
/** The platform has Node check the request deadlines every second (every 30 s by default). */
const CHECK_INTERVAL_MS = 1_000;
/**
 * Room for a loaded machine past a deadline and its check. Still short of the defaults that an
 * ignored setting would fall back to (headers 5 s, request 10 s, checked every 30 s).
 */
const SLACK_MS = 2_500;
/** Timers may fire a little early against the wall clock. */
const TIMER_GRANULARITY_MS = 50;

describe('HTTP limits', () => {
  const suite = usePlatform({
    AMR_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    AMR_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    AMR_RATE_TOKEN_PER_S: '1',
    AMR_RATE_TOKEN_BURST: '5',
    AMR_RATE_ALARM_READS_PER_S: '1',
    AMR_RATE_ALARM_READS_BURST: '30',
    AMR_RATE_ADDRESS_PER_S: '1',
    AMR_RATE_ADDRESS_BURST: '3',
  });

  /** Sends requests one after another until one is answered 429; returns how many were let through first. */
  async function untilRefused(send: () => PromiseLike<{ status: number }>): Promise<number> {
    for (let ok = 0; ok < 200; ok++) {
      const { status } = await send();
      if (status === 429) return ok;
      expect(status).toBe(200);
    }
    throw new Error('never refused');
  }

  /** A raw connection from `localAddress`; resolves with what the server sent and when it closed. */
  function rawExchange(localAddress: string, send: (socket: Socket) => void): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      let answer = '';
      const socket = connectTcp({ port: suite.platform.running.ports.http, host: '127.0.0.1', localAddress }, () => send(socket));
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
    });
  }

  it(`cuts a slow body, slow headers and a silent connection within seconds, while an SSE stream stays open past 30 s`, async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-antwerpen');
    const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
    const openedAt = Date.now();
    try {
      await stream.opened;
      const [slowBody, slowHeaders, silent] = await Promise.all([
        // 10 of the 100 bytes announced, then nothing.
        rawExchange('127.0.0.1', (s) => s.write(`POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"homeCic`)),
        // A header line every 200 ms, never the blank line that ends them.
        rawExchange('127.0.0.1', (s) => {
          s.write('GET /api/v1/cics HTTP/1.1\r\nHost: x\r\n');
          const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
          s.on('close', () => clearInterval(drip));
        }),
        rawExchange('127.0.0.1', () => undefined),
      ]);
      // Each is cut at its deadline — not before it, and at the first check after it, give or take SLACK_MS.
      expect(slowBody.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(slowBody.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - TIMER_GRANULARITY_MS);
      expect(slowBody.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS);
      expect(slowHeaders.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(slowHeaders.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - TIMER_GRANULARITY_MS);
      expect(slowHeaders.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS);
      // Closed either way: by the platform's own check (nothing sent), or by Node's header deadline (408).
      expect(silent.answer === '' || /^HTTP\/1\.1 408 /.test(silent.answer)).toBe(true);
      expect(silent.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - TIMER_GRANULARITY_MS);
      expect(silent.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);

      // The stream is a response, not a request: the request deadline does not apply to it.
      await stream.next((e) => e.event === 'keepalive' && Date.now() - openedAt >= 30_000, 40_000);
      const { deviceId, secret } = await platform.provision('cic-antwerpen');
      const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
      try {
        await device.press({ seq: 1 });
        const { alarm } = await device.stage('received', 1);
        await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      } finally {
        await device.close();
      }
      expect(Date.now() - openedAt).toBeGreaterThan(30_000);
    } finally {
      stream.close();
    }
  }, 60_000);

  it('limits an integration token on the rest of the API (429, Retry-After), never on working its alarms', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-antwerpen');
    const other = await platform.integrationToken('cic-antwerpen');
    const { deviceId, secret } = await platform.provision('cic-antwerpen');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);

      // A burst of 5, then 1 a second: the sixth request of a quick run is refused.
      const letThrough = await untilRefused(() => platform.api(token).get('/cics'));
      expect(letThrough).toBeGreaterThanOrEqual(5);
      expect(letThrough).toBeLessThanOrEqual(6);
      const refused = await platform.api(token).get('/alerts').expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body.message).toMatch(/AMR_RATE_TOKEN_PER_S=1.*retry after \d+ s/);

      // With that bucket empty, the CIC still reads, takes, dispatches and closes its alarm, and its stream opens.
      await platform.api(token).get('/alarms?state=open').expect(200);
      await platform.api(token).get(`/alarms/${alarm}`).expect(200);
      await platform.api(token).post(`/alarms/${alarm}/delivered`).expect(200);
      await platform.api(token).post(`/alarms/${alarm}/accept`).expect(200);
      await device.stage('accepted', 1);
      await platform.api(token).post(`/alarms/${alarm}/dispatch`, { unit: 'ANT-21' }).expect(200);
      await platform.api(token).post(`/alarms/${alarm}/close`, { outcome: 'resolved' }).expect(200);
      await device.stage('closed', 1);
      const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
      await stream.opened;
      stream.close();

      // Another token of the same CIC, and the administrator, are untouched.
      await platform.api(other).get('/cics').expect(200);
      for (let i = 0; i < 10; i++) await platform.api().get('/cics').expect(200);
    } finally {
      await device.close();
    }
  });

  it('gives alarm reads their own, larger bucket', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-limburg');
    // A burst of 30, six times the rest of the API's: all of it before the first refusal.
    expect(await untilRefused(() => platform.api(token).get('/alarms'))).toBeGreaterThanOrEqual(30);
    await platform.api(token).get('/alarms').expect(429);
    // Still allowed: the other bucket, and the alarm work itself.
    await platform.api(token).get('/cics').expect(200);
    await platform.api(token).post(`/alarms/00000000-0000-4000-8000-000000000000/accept`).expect(404);
  });

  it('limits requests without a valid token per source address, not the valid tokens from it', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-namur');
    const get = (path: string, auth?: string) =>
      new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: platform.running.ports.http, localAddress: '127.0.0.2', path, headers: auth ? { Authorization: `Bearer ${auth}` } : {} },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode!, body, ...(res.headers['retry-after'] ? { retryAfter: res.headers['retry-after'] } : {}) }));
          },
        );
        req.on('error', reject);
        req.end();
      });

    const statuses = [];
    for (const auth of [undefined, 'wrong-token-0123456789', undefined]) statuses.push((await get('/api/v1/cics', auth)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const refused = await get('/api/v1/cics');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body).message).toMatch(/without a valid token from your address/);
    expect((await get('/health')).status).toBe(429);

    // A valid token from the same address works; other addresses are untouched.
    expect((await get('/api/v1/cics', token)).status).toBe(200);
    await platform.http.get('/api/v1/cics').expect(401);
    await platform.http.get('/health').expect(200);
    expect(await platform.metric('amr_http_rate_limited_total', { limit: 'address' })).toBeGreaterThanOrEqual(2);
  });

  it('caps the event streams of one token: a sixth ends the oldest, so a reconnecting CIC is never locked out', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-luxembourg');
    const streams = Array.from({ length: 5 }, () => new SseClient(`${platform.httpUrl}/api/v1/events`, token));
    try {
      await Promise.all(streams.map((s) => s.opened));
      const oldest = streams[0]!;
      const sixth = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
      await sixth.opened;
      streams.push(sixth);
      await oldest.ended; // the node ended the oldest stream to make room
      expect(await platform.metric('amr_http_rate_limited_total', { limit: 'sse-streams' })).toBe(1);
      // The five that remain are alive: an alarm reaches the newest.
      const { deviceId, secret } = await platform.provision('cic-luxembourg');
      const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
      try {
        await device.press({ seq: 1 });
        const { alarm } = await device.stage('received', 1);
        await sixth.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      } finally {
        await device.close();
      }

      // Other tokens are not affected.
      const otherStream = new SseClient(`${platform.httpUrl}/api/v1/events`, await platform.integrationToken('cic-luxembourg'));
      await otherStream.opened;
      otherStream.close();
    } finally {
      streams.forEach((s) => s.close());
    }
  });
});
