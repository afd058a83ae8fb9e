import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { deviceCaSettings } from './support/device-ca.js';

/**
 * Requests generated from the OpenAPI document the platform serves: every operation, with path,
 * query and body values drawn from its schemas, broken on purpose (wrong types, huge and negative
 * numbers, unknown and prototype keys, deep nesting, malformed JSON, other content types, foreign
 * tokens). No answer may be a 5xx. AMR_FUZZ_REQUESTS sets the count (default 10,000);
 * AMR_FUZZ_SEED replays a run.
 */
const REQUESTS = Number(process.env.AMR_FUZZ_REQUESTS || 10_000);
const SEED = Number(process.env.AMR_FUZZ_SEED || Date.now() % 2 ** 31);
const IN_FLIGHT = 4;

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; schema: Schema }[];
  body?: Schema;
}
interface FuzzRequest {
  method: string;
  url: string;
  token: string | undefined;
  body?: { contentType: string; text: string };
}

describe('HTTP API under generated input', () => {
  // The request rates are not limited here (test/http-limits.e2e-spec.ts tests them): with them,
  // most generated requests would be answered 429 before reaching what they are meant to break.
  // With a device CA, so that certificate requests reach the CSR checks.
  const suite = usePlatform({ AMR_RATE_TOKEN_PER_S: '0', AMR_RATE_ALARM_READS_PER_S: '0', AMR_RATE_ADDRESS_PER_S: '0', ...deviceCaSettings() });
  let operations: Operation[] = [];
  let components: Record<string, Schema> = {};
  const known: string[] = [];
  let integrationToken = '';

  beforeAll(async () => {
    const doc = (await suite.platform.http.get('/api/docs-json').expect(200)).body as Schema;
    components = doc.components?.schemas ?? {};
    for (const [path, item] of Object.entries(doc.paths as Record<string, Schema>)) {
      for (const [method, op] of Object.entries(item)) {
        operations.push({
          method: method.toUpperCase(),
          path,
          params: (op.parameters ?? []).filter((p: Schema) => p.in === 'path' || p.in === 'query'),
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
    // Real ids, so that generated requests also reach past the "not found".
    const { caseId, deviceId, secret } = await suite.platform.provision('cic-antwerpen');
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 1 });
    const alarm = (await device.stage('received', 1)).alarm!;
    await device.close();
    const integration = (await suite.platform.api().post('/integrations', { cicId: 'cic-antwerpen', name: 'fuzz' }).expect(201)).body;
    integrationToken = integration.token;
    known.push(caseId, deviceId, alarm, integration.id, 'cic-antwerpen');
  }, 60_000);

  it(`answers ${REQUESTS} generated requests without a single 5xx`, async () => {
    expect(operations.length).toBeGreaterThan(20);
    const requests = fc.sample(requestArb(), { numRuns: REQUESTS, seed: SEED });
    const classes: Record<string, number> = {};
    const serverErrors: string[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const status = await send(r);
        const cls = `${Math.floor(status / 100)}xx`;
        classes[cls] = (classes[cls] ?? 0) + 1;
        if (status >= 500) serverErrors.push(`${status} ${r.method} ${r.url.slice(0, 200)} ${r.body?.contentType ?? ''} ${r.body?.text.slice(0, 300) ?? ''}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `HTTP fuzz: ${requests.length} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}): ` +
        `${Object.entries(classes).sort().map(([c, n]) => `${c} ${n}`).join(', ')}\n`,
    );
    expect(serverErrors.slice(0, 10)).toEqual([]);
    expect(classes['5xx'] ?? 0).toBe(0);
    expect(requests.length).toBe(REQUESTS);
  }, 300_000);

  async function send(r: FuzzRequest): Promise<number> {
    const headers: Record<string, string> = {};
    if (r.token !== undefined) headers.Authorization = `Bearer ${r.token}`;
    if (r.body) headers['Content-Type'] = r.body.contentType;
    const abort = new AbortController();
    const res = await fetch(suite.platform.httpUrl + r.url, {
      method: r.method,
      headers,
      body: r.body && r.method !== 'GET' && r.method !== 'HEAD' ? r.body.text : undefined,
      signal: abort.signal,
    });
    // An event stream never ends: its status is the answer.
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) abort.abort();
    else await res.arrayBuffer().catch(() => undefined);
    return res.status;
  }

  function requestArb(): fc.Arbitrary<FuzzRequest> {
    const token = fc.oneof(
      { weight: 6, arbitrary: fc.constant(ADMIN_TOKEN) },
      { weight: 2, arbitrary: fc.constant('INTEGRATION') },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'x') || 'x') },
    );
    return fc.integer({ min: 0, max: operations.length - 1 }).chain((i) => {
      const op = operations[i]!;
      const path = fc.tuple(...op.params.filter((p) => p.in === 'path').map(() => pathValue()));
      const query = fc.array(fc.tuple(queryName(op), queryValue()), { maxLength: 4 });
      const body = op.body || op.method !== 'GET' ? fc.option(bodyArb(op.body), { freq: 8 }) : fc.constant(null);
      return fc.record({ token, path, query, body }).map(({ token, path, query, body }) => {
        let n = 0;
        const pathParams = op.params.filter((p) => p.in === 'path');
        const url = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(path[n++] ?? (pathParams.length ? 'x' : '')));
        const search = new URLSearchParams(query).toString();
        return {
          method: op.method,
          url: search ? `${url}?${search}` : url,
          token: token === 'INTEGRATION' ? integrationToken : token,
          ...(body ? { body } : {}),
        };
      });
    });
  }

  function pathValue(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...known) },
      { weight: 2, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constantFrom('..', '%', '\u0000', 'a'.repeat(3000), '-1', '99999999999999999999', '__proto__', 'constructor') },
    );
  }

  function queryName(op: Operation): fc.Arbitrary<string> {
    const declared = op.params.filter((p) => p.in === 'query').map((p) => p.name);
    const extra = fc.constantFrom('offset', 'limit', 'state', '__proto__', 'constructor', 'unknown', 'from', 'to');
    return declared.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...declared) }, { weight: 1, arbitrary: extra }) : extra;
  }

  function queryValue(): fc.Arbitrary<string> {
    return fc.oneof(
      fc.constantFrom('0', '1', '100', '1000', '-1', '1.5', '1e309', 'NaN', '99999999999999999999', '2147483648', 'true', 'open', 'closed', ''),
      fc.integer().map(String),
      fc.string({ maxLength: 30 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom(...known),
    );
  }

  function bodyArb(schema: Schema | undefined): fc.Arbitrary<{ contentType: string; text: string }> {
    const json = (value: fc.Arbitrary<unknown>) => value.map((v) => ({ contentType: 'application/json', text: JSON.stringify(v) ?? 'null' }));
    const valid = schema ? valueFor(schema, 0) : fc.jsonValue({ maxDepth: 3 });
    return fc.oneof(
      { weight: 6, arbitrary: json(valid) },
      { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
      {
        weight: 1,
        arbitrary: fc.tuple(valid, fc.constantFrom('constructor', '__proto__', 'prototype', 'unknownKey', 'isAdmin')).map(([v, key]) => ({
          contentType: 'application/json',
          text: JSON.stringify(v && typeof v === 'object' && !Array.isArray(v) ? v : {}).replace(/^\{/, `{"${key}":{"polluted":true},`).replace(/,\}$/, '}'),
        })),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.integer({ min: 33, max: 60_000 }).map((d) => ({ contentType: 'application/json', text: '['.repeat(d) + ']'.repeat(d) })),
          fc.integer({ min: 33, max: 60_000 }).map((d) => ({ contentType: 'application/json', text: '{"a":'.repeat(d) + '1' + '}'.repeat(d) })),
          fc.string({ maxLength: 60 }).map((s) => ({ contentType: 'application/json', text: `{"x": ${s}` })),
          fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml')
            .chain((contentType) => valid.map((v) => ({ contentType, text: contentType.includes('form') ? 'caseId=1&count=2' : JSON.stringify(v) ?? '' }))),
          fc.constant({ contentType: 'application/json', text: `{"pad":"${'x'.repeat(1_100_000)}"}` }),
        ),
      },
    );
  }

  /** Values shaped by a JSON schema, often broken: another type, out of range, unknown keys. */
  function valueFor(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    if (schema.$ref) return valueFor(components[String(schema.$ref).split('/').pop()!] ?? {}, depth + 1);
    const wrong = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant([]), fc.constant({}));
    const shaped = ((): fc.Arbitrary<unknown> => {
      if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
      if (depth > 4) return fc.constant(null);
      switch (schema.type) {
        case 'integer':
        case 'number':
          return fc.oneof(
            fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 1000, 1000) }),
            fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, 1e20, 1.5, -0),
            fc.double(),
          );
        case 'boolean':
          return fc.boolean();
        case 'array':
          return fc.array(valueFor(schema.items ?? {}, depth + 1), { maxLength: 4 });
        case 'object': {
          const props = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
          const required = new Set<string>(schema.required ?? []);
          const record = fc.record(Object.fromEntries(props.map(([k, s]) => [k, valueFor(s, depth + 1)])), {
            requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)),
          });
          return fc.tuple(record, fc.option(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), { freq: 6 })).map(
            ([r, extra]) => ({ ...(extra ?? {}), ...r }),
          );
        }
        default:
          return fc.oneof(
            schema.example !== undefined ? fc.constant(schema.example) : fc.string({ maxLength: 20 }),
            fc.constantFrom(...known),
            fc.uuid(),
            fc.string({ maxLength: 300 }),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          );
      }
    })();
    return fc.oneof({ weight: 5, arbitrary: shaped }, { weight: 1, arbitrary: wrong });
  }
});
