import { beforeAll, describe, expect, it } from '@jest/globals';
import { encodeSmsAlarm, smsKey } from '@amr/protocol';
import { deviceKeyAndCsr } from '../device-sim/src/pki.js';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { deviceCaSettings } from './support/device-ca.js';

/**
 * JSON `null` in a body field is refused with a 400 that names the field, never a 500 and never
 * taken as "left out"; only where null is the documented way to clear a value is it accepted, and
 * it clears it. Every field of every JSON body in the OpenAPI document is tried, nested ones
 * included, so a field is covered the day it is added.
 */

const SMS_GATEWAY_TOKEN = 'test-sms-gateway-token-0123456789';

type Schema = Record<string, any>;

/** How a route is called with a body it accepts: the `{id}` of its path, made anew for each request. */
interface Route {
  target?: () => Promise<string>;
  body: (id: string) => Promise<object> | object;
}

describe('null in a body field', () => {
  // Rate limits off: the suite sends about a hundred requests in a burst (test/http-limits tests the limits).
  const suite = usePlatform({ AMR_RATE_TOKEN_PER_S: '0', AMR_SMS_GATEWAY_TOKEN: SMS_GATEWAY_TOKEN, ...deviceCaSettings() });
  const api = () => suite.platform.api();

  let numbers = 0;
  const newMsisdn = () => `+3247100${String(++numbers).padStart(4, '0')}`;
  const newCase = async () => (await api().post('/cases', { homeCicId: 'cic-antwerpen' }).expect(201)).body.id as string;
  const stockDevice = async (body: object = {}) => (await api().post('/devices', body).expect(201)).body as { deviceId: string; secret: string };
  const newAlarm = async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 1 });
    const alarm = (await device.stage('received', 1)).alarm!;
    await device.close();
    return alarm;
  };

  /** Every route whose body has fields, with a body it accepts. */
  const routes: Record<string, Route> = {
    'POST /api/v1/cases': { body: () => ({ homeCicId: 'cic-antwerpen', perpetrator: {}, protectionOrders: [{ type: 'no-contact' }], victim: {} }) },
    // A case with a button: its settings reach the button's own.
    'PATCH /api/v1/cases/{id}': { target: async () => (await suite.platform.provision()).caseId, body: () => ({}) },
    'POST /api/v1/devices': { body: () => ({}) },
    'POST /api/v1/devices/batch': { body: () => ({ count: 1 }) },
    'PATCH /api/v1/devices/{id}': { target: async () => (await stockDevice({ msisdn: newMsisdn() })).deviceId, body: () => ({}) },
    'POST /api/v1/devices/{id}/assign': { target: async () => (await stockDevice()).deviceId, body: async () => ({ caseId: await newCase() }) },
    'POST /api/v1/devices/{id}/renew': { target: async () => (await suite.platform.provision()).deviceId, body: () => ({}) },
    'POST /api/v1/devices/{id}/certificate': { target: async () => (await stockDevice()).deviceId, body: (id) => ({ csr: deviceKeyAndCsr(id).csr }) },
    'POST /api/v1/alarms/{id}/dispatch': { target: newAlarm, body: () => ({}) },
    'POST /api/v1/alarms/{id}/close': { target: newAlarm, body: () => ({ outcome: 'perpetrator arrested' }) },
    'POST /api/v1/integrations': { body: () => ({ cicId: 'cic-luxembourg', name: 'null test' }) },
    'PATCH /api/v1/integrations/{id}': {
      target: async () => (await api().post('/integrations', { cicId: 'cic-luxembourg', name: 'null test', webhookUrl: 'http://127.0.0.1:9/amr' }).expect(201)).body.id,
      body: () => ({ webhookUrl: 'http://127.0.0.1:9/amr-2' }),
    },
    'PATCH /api/v1/cics/{id}': {
      target: async () => (await api().patch('/cics/cic-namur', { backupCicId: 'cic-liege' }).expect(200)).body.id,
      body: () => ({ backupCicId: 'cic-liege' }),
    },
    'POST /api/v1/sms/inbound': {
      body: async () => {
        const from = newMsisdn();
        const { deviceId, secret } = await stockDevice({ caseId: await newCase(), msisdn: from });
        const text = encodeSmsAlarm(deviceId, { seq: 1 }, smsKey(secret));
        if (!text.ok) throw text.error;
        return { from, text: text.value };
      },
    },
  };

  /** Null clears these (docs/sms-gateway.md, docs/webhooks.md, docs/coverage-areas.md): how to read each back. */
  const clearable: Partial<Record<string, (id: string) => Promise<unknown>>> = {
    'PATCH /api/v1/devices/{id} msisdn': async (id) => (await api().get(`/devices/${id}`).expect(200)).body.msisdn,
    'PATCH /api/v1/integrations/{id} webhookUrl': async (id) =>
      ((await api().get('/integrations').expect(200)).body as { id: string; webhookUrl: string | null }[]).find((i) => i.id === id)?.webhookUrl,
    'PATCH /api/v1/cics/{id} backupCicId': async (id) => (await api().get(`/cics/${id}`).expect(200)).body.backupCicId,
  };

  /** `METHOD /path` → the dotted paths of its body's fields (`perpetrator.name`, `protectionOrders.0.type`). */
  const fieldsOf = new Map<string, string[]>();

  beforeAll(async () => {
    const doc = (await suite.platform.http.get('/api/docs-json').expect(200)).body as Schema;
    const schemas = (doc.components?.schemas ?? {}) as Record<string, Schema>;
    const resolve = (s: Schema | undefined): Schema | undefined => (s?.$ref ? schemas[String(s.$ref).split('/').pop()!] : s);
    const fields = (schema: Schema | undefined, prefix: string): string[] =>
      Object.entries((resolve(schema)?.properties ?? {}) as Record<string, Schema>).flatMap(([name, property]) => {
        const path = prefix + name;
        const nested = property.type === 'array' ? fields(property.items, `${path}.0.`) : fields(property, `${path}.`);
        return [path, ...nested];
      });
    for (const [path, item] of Object.entries(doc.paths as Record<string, Schema>)) {
      for (const [method, op] of Object.entries(item)) {
        const found = fields(op.requestBody?.content?.['application/json']?.schema, '');
        if (found.length) fieldsOf.set(`${method.toUpperCase()} ${path}`, found);
      }
    }
  });

  const send = (route: string, id: string | undefined, body: object) => {
    const [method, path] = route.split(' ') as [string, string];
    const url = path.replace('/api/v1', '').replace('{id}', id ?? '');
    if (method === 'PATCH') return api().patch(url, body);
    if (path === '/api/v1/sms/inbound') return suite.platform.http.post(path).set('Authorization', `Bearer ${SMS_GATEWAY_TOKEN}`).send(body);
    return api().post(url, body);
  };

  /** A copy of `body` with null at `path`, the objects and arrays on the way made where missing. */
  const withNull = (body: object, path: string): object => {
    const copy = structuredClone(body) as Record<string, any>;
    const keys = path.split('.');
    let at = copy;
    keys.slice(0, -1).forEach((key, i) => (at = at[key] ??= /^\d+$/.test(keys[i + 1]!) ? [] : {}));
    at[keys.at(-1)!] = null;
    return copy;
  };

  it('has a body it accepts for every route whose body has fields', () => {
    expect(fieldsOf.size).toBeGreaterThan(10);
    expect([...fieldsOf.keys()].sort()).toEqual(Object.keys(routes).sort());
  });

  it.each(Object.keys(routes))('%s: accepts the body the other tests start from', async (route) => {
    const id = await routes[route]!.target?.();
    const res = await send(route, id, await routes[route]!.body(id ?? ''));
    expect(res.status < 300 ? 'accepted' : `${res.status} ${JSON.stringify(res.body)}`).toBe('accepted');
  }, 60_000);

  it('refuses null in every field with a 400 that names it, and takes it only where it clears the field', async () => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [route, fields] of fieldsOf) {
      for (const field of fields) {
        const key = `${route} ${field}`;
        const id = await routes[route]!.target?.();
        const res = await send(route, id, withNull(await routes[route]!.body(id ?? ''), field));
        const messages = ([] as unknown[]).concat(res.body.message ?? []).map(String);
        const readBack = clearable[key];
        expected[key] = readBack ? 'cleared' : 'refused, naming it';
        // Each message names the field, and one says what it must be (not only, say, a minimum it falls short of).
        const namesIt = messages.every((m) => m.includes(field.split('.').at(-1)!)) && messages.some((m) => m.includes(`${field} must be`));
        if (res.status === 400 && namesIt) outcomes[key] = 'refused, naming it';
        else if (res.status < 300 && readBack && (await readBack(id!)) === null) outcomes[key] = 'cleared';
        else outcomes[key] = `${res.status} ${JSON.stringify(res.body.message ?? res.body)}`;
      }
    }
    expect(outcomes).toEqual(expected);
    // Null is taken exactly where it clears a value.
    expect(Object.keys(outcomes).filter((k) => outcomes[k] === 'cleared').sort()).toEqual(Object.keys(clearable).sort());
  }, 300_000);
});
