import { describe, expect, it } from '@jest/globals';
import { ApiClient, ApiError, type FetchLike } from './api.js';
import { createCases, provisionDevice, provisionForCases } from './provision.js';

interface Call {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: unknown;
}

function fakeFetch(answers: Array<{ status: number; body: unknown }>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({
      url,
      method: init.method,
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const answer = answers.shift() ?? { status: 500, body: { message: 'no more answers' } };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, calls };
}

describe('provisionDevice', () => {
  it('creates a case, then a device for it, with the admin token', async () => {
    const { fetch, calls } = fakeFetch([
      { status: 201, body: { id: 'case-1' } },
      { status: 201, body: { deviceId: 'dev-abc123', secret: 'very-secret' } },
    ]);
    const api = new ApiClient('http://api.test:3000', 'admin-token', { fetch });
    const device = await provisionDevice(api, { cicId: 'cic-antwerpen' });
    expect(device).toEqual({ caseId: 'case-1', deviceId: 'dev-abc123', secret: 'very-secret' });
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', 'http://api.test:3000/api/v1/cases', { homeCicId: 'cic-antwerpen', reference: 'device-sim', riskLevel: 'high' }],
      ['POST', 'http://api.test:3000/api/v1/devices', { caseId: 'case-1' }],
    ]);
    expect(calls[0]!.headers['authorization']).toBe('Bearer admin-token');
    expect(calls[0]!.headers['content-type']).toBe('application/json');
  });

  it('reports a non-2xx answer with its status and the server message', async () => {
    const { fetch } = fakeFetch([{ status: 401, body: { statusCode: 401, message: 'invalid admin token', error: 'Unauthorized' } }]);
    const api = new ApiClient('http://api.test:3000', 'wrong', { fetch });
    const failure = provisionDevice(api, { cicId: 'cic-antwerpen' });
    await expect(failure).rejects.toThrow(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 401, message: 'POST /api/v1/cases: HTTP 401: invalid admin token' });
  });

  it('joins validation messages (NestJS sends a list)', async () => {
    const { fetch } = fakeFetch([{ status: 400, body: { statusCode: 400, message: ['homeCicId is unknown', 'riskLevel bad'] } }]);
    const api = new ApiClient('http://api.test:3000', 't', { fetch });
    await expect(provisionDevice(api, { cicId: 'cic-nowhere' })).rejects.toThrow('HTTP 400: homeCicId is unknown; riskLevel bad');
  });

  it('refuses an answer without a usable device id and secret, without echoing it', async () => {
    const { fetch } = fakeFetch([
      { status: 201, body: { id: 'case-1' } },
      { status: 201, body: { deviceId: 'bad id!', secret: 'leak-me' } },
    ]);
    const api = new ApiClient('http://api.test:3000', 't', { fetch });
    const failure = provisionDevice(api, { cicId: 'cic-antwerpen' });
    await expect(failure).rejects.toThrow(/no valid deviceId and secret/);
    await expect(failure).rejects.not.toThrow(/leak-me/);
  });

  it('says so when the API cannot be reached', async () => {
    const api = new ApiClient('http://127.0.0.1:9', 't', { timeoutMs: 2000 }); // discard port: nothing listens
    await expect(provisionDevice(api, { cicId: 'cic-antwerpen' })).rejects.toMatchObject({
      status: null,
      message: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:9/),
    });
  });
});

describe('provisionForCases', () => {
  const batchAnswer = (caseIds: string[], from: number) => caseIds.map((caseId, i) => ({ deviceId: `dev-${from + i}`, secret: `s-${from + i}`, caseId }));

  it('asks the batch endpoint for 1,000 devices at a time, one per entry (repeats allowed), in order', async () => {
    const caseIds = Array.from({ length: 2500 }, (_, i) => `case-${Math.floor(i / 10)}`);
    const calls: string[][] = [];
    const fetch: FetchLike = async (url, init) => {
      const body = JSON.parse(String(init.body)) as { caseIds: string[] };
      calls.push(body.caseIds);
      expect(url).toBe('http://api.test/api/v1/devices/batch');
      return new Response(JSON.stringify(batchAnswer(body.caseIds, calls.length * 1000)), { status: 201 });
    };
    const progress: number[] = [];
    const { devices, batch } = await provisionForCases(new ApiClient('http://api.test', 't', { fetch }), caseIds, { onProgress: (n) => progress.push(n) });
    expect(batch).toBe(true);
    expect(calls.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(devices).toHaveLength(2500);
    expect(devices.map((d) => d.caseId)).toEqual(caseIds);
    expect(progress[progress.length - 1]).toBe(2500);
  });

  it('falls back to one request per device when the platform has no batch endpoint', async () => {
    const { fetch, calls } = fakeFetch([
      { status: 404, body: { statusCode: 404, message: 'Cannot POST /api/v1/devices/batch', error: 'Not Found' } },
      { status: 201, body: { deviceId: 'dev-1', secret: 's1' } },
      { status: 201, body: { deviceId: 'dev-2', secret: 's2' } },
    ]);
    const { devices, batch } = await provisionForCases(new ApiClient('http://api.test', 't', { fetch }), ['c1', 'c1'], { singleConcurrency: 1 });
    expect(batch).toBe(false);
    expect(devices).toEqual([
      { caseId: 'c1', deviceId: 'dev-1', secret: 's1' },
      { caseId: 'c1', deviceId: 'dev-2', secret: 's2' },
    ]);
    expect(calls.map((c) => c.url)).toEqual(['http://api.test/api/v1/devices/batch', 'http://api.test/api/v1/devices', 'http://api.test/api/v1/devices']);
  });

  it('does not take a missing case (404 from the endpoint itself) for a missing endpoint', async () => {
    const { fetch } = fakeFetch([{ status: 404, body: { statusCode: 404, message: 'Case c9 not found' } }]);
    await expect(provisionForCases(new ApiClient('http://api.test', 't', { fetch }), ['c9'])).rejects.toThrow('HTTP 404: Case c9 not found');
  });

  it('refuses a batch answer that does not hold one device per entry, without echoing secrets', async () => {
    const { fetch } = fakeFetch([{ status: 201, body: [{ deviceId: 'dev-1', secret: 'leak-me' }] }]);
    const failure = provisionForCases(new ApiClient('http://api.test', 't', { fetch }), ['c1', 'c2']);
    await expect(failure).rejects.toThrow(/expected 2 devices, got 1/);
    await expect(failure).rejects.not.toThrow(/leak-me/);
  });
});

describe('createCases', () => {
  it('creates the cases with bounded concurrency and returns their ids in order', async () => {
    let inFlight = 0;
    let most = 0;
    let n = 0;
    const fetch: FetchLike = async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      const id = `case-${n++}`;
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      return new Response(JSON.stringify({ id }), { status: 201 });
    };
    const ids = await createCases(new ApiClient('http://api.test', 't', { fetch }), 40, { cicId: 'cic-antwerpen', concurrency: 4 });
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `case-${i}`));
    expect(most).toBe(4);
  });
});
