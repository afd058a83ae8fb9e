import { describe, expect, it } from '@jest/globals';
import { ApiClient, ApiError, type FetchLike } from './api.js';
import { provisionDevice } from './provision.js';

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
