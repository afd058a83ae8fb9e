import { describe, expect, it } from '@jest/globals';
import { ApiClient, type FetchLike } from './api.js';
import { CicIntegrations } from './cic-integrations.js';

/** The platform's CIC list and integration routes; records every call with its token. */
function fakePlatform(cics: string[]) {
  const calls: Array<{ method: string; path: string; token: string; body?: unknown }> = [];
  const fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as { cicId?: string }) : undefined;
    calls.push({ method: init.method!, path, token: (init.headers as Record<string, string>).authorization!.replace('Bearer ', ''), ...(body ? { body } : {}) });
    const answer =
      path === '/api/v1/cics' ? cics.map((id) => ({ id, name: id }))
      : path === '/api/v1/integrations' ? { id: `int-${body?.cicId}`, token: `token-${body?.cicId}` }
      : {};
    return new Response(JSON.stringify(answer), { status: path === '/api/v1/integrations' ? 201 : 200, headers: { 'content-type': 'application/json' } });
  };
  return { admin: new ApiClient('http://platform', 'admin', { fetch }), fetch, calls };
}

describe(CicIntegrations.name, () => {
  it('creates one integration per CIC and speaks for each CIC with its own token', async () => {
    const platform = fakePlatform(['cic-antwerpen', 'cic-limburg']);

    const integrations = await CicIntegrations.create(platform.admin, 'device-sim bench', { fetch: platform.fetch });

    expect(integrations.count).toBe(2);
    expect(platform.calls.filter((c) => c.path === '/api/v1/integrations').map((c) => [c.token, c.body])).toEqual([
      ['admin', { cicId: 'cic-antwerpen', name: 'device-sim bench' }],
      ['admin', { cicId: 'cic-limburg', name: 'device-sim bench' }],
    ]);
    await integrations.clientFor('cic-limburg')!.post('/api/v1/alarms/a1/delivered', {});
    expect(platform.calls.at(-1)).toMatchObject({ path: '/api/v1/alarms/a1/delivered', token: 'token-cic-limburg' });
    expect(integrations.clientFor('cic-unknown')).toBeUndefined();
    expect(integrations.clientFor(undefined)).toBeUndefined();
  });

  it('revokes every integration it created, with the admin token', async () => {
    const platform = fakePlatform(['cic-antwerpen', 'cic-limburg']);
    const integrations = await CicIntegrations.create(platform.admin, 'device-sim bench', { fetch: platform.fetch });

    await integrations.revoke();

    expect(platform.calls.filter((c) => c.path.endsWith('/revoke')).map((c) => `${c.token} ${c.path}`)).toEqual([
      'admin /api/v1/integrations/int-cic-antwerpen/revoke',
      'admin /api/v1/integrations/int-cic-limburg/revoke',
    ]);
  });
});
