import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, type AmrConfig } from './config.js';

type Env = Record<string, string>;

/** The message of the ConfigError that `env` stops start-up with (undefined: it starts). */
function failure(env: Env): string | undefined {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return undefined;
}

/** The value at a dotted path of the configuration. */
function valueAt(config: AmrConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
}

/** Integer settings: variable, where it lands, its default. */
const POSITIVE: [string, string, number][] = [
  ['AMR_REFUSAL_SUMMARY_S', 'log.refusalSummaryS', 60],
  ['MQTT_CONNECT_TIMEOUT_MS', 'mqtt.connectTimeoutMs', 5_000],
  ['MQTT_MAX_PENDING_PER_ADDRESS', 'mqtt.maxPendingPerAddress', 1_000],
  ['AMR_HTTP_HEADERS_TIMEOUT_MS', 'http.headersTimeoutMs', 5_000],
  ['AMR_HTTP_REQUEST_TIMEOUT_MS', 'http.requestTimeoutMs', 10_000],
  ['AMR_RATE_TOKEN_BURST', 'httpLimits.token.burst', 200],
  ['AMR_RATE_ALARM_READS_BURST', 'httpLimits.alarmReads.burst', 2_000],
  ['AMR_RATE_ADDRESS_BURST', 'httpLimits.address.burst', 50],
  ['AMR_SSE_STREAMS_PER_TOKEN', 'httpLimits.sseStreamsPerToken', 5],
  ['AMR_RETRANSMIT_WINDOW_S', 'alarms.retransmitWindowS', 3600],
  ['AMR_DELIVERY_TIMEOUT_S', 'alarms.deliveryTimeoutS', 30],
  ['AMR_ACCEPT_TIMEOUT_S', 'alarms.acceptTimeoutS', 120],
  ['AMR_ESCALATION_SWEEP_MS', 'alarms.escalationSweepMs', 500],
  ['AMR_LOC_EVERY_S', 'alarms.locEveryS', 15],
  ['AMR_ROUTING_MAX_ACCURACY_M', 'alarms.routingMaxAccuracyM', 25_000],
  ['AMR_POSITION_MAX_AGE_S', 'alarms.positionMaxAgeS', 1800],
  ['AMR_SUPERVISION_SWEEP_MS', 'supervision.sweepMs', 1000],
  ['AMR_LOW_BATTERY_PCT', 'supervision.lowBatteryPct', 20],
  ['AMR_GRANT_MONTHS', 'supervision.grantMonths', 6],
  ['AMR_MIN_HEARTBEAT_S', 'supervision.minHeartbeatS', 60],
  ['AMR_RETAIN_ALARM_DATA_DAYS', 'retention.alarmDataDays', 90],
  ['AMR_RETAIN_CASE_DATA_DAYS', 'retention.caseDataDays', 365],
  ['AMR_RETENTION_SWEEP_MS', 'retention.sweepMs', 3_600_000],
  ['AMR_WEBHOOK_TIMEOUT_MS', 'webhooks.timeoutMs', 5_000],
  ['AMR_WEBHOOK_MAX_ATTEMPTS', 'webhooks.maxAttempts', 20],
  ['AMR_AUTH_MAX_FAILURES', 'deviceAuth.maxFailures', 5],
  ['AMR_AUTH_FAILURE_WINDOW_S', 'deviceAuth.failureWindowS', 60],
  ['AMR_AUTH_MAX_BACKOFF_S', 'deviceAuth.maxBackoffS', 60],
];
const NON_NEGATIVE: [string, string, number][] = [
  ['AMR_RATE_TOKEN_PER_S', 'httpLimits.token.perS', 20],
  ['AMR_RATE_ALARM_READS_PER_S', 'httpLimits.alarmReads.perS', 200],
  ['AMR_RATE_ADDRESS_PER_S', 'httpLimits.address.perS', 5],
  ['AMR_SELF_TEST_EVERY_S', 'supervision.selfTestEveryS', 0],
];
const PORTS: [string, string, number][] = [
  ['MQTT_PORT', 'mqtt.port', 1883],
  ['HTTP_PORT', 'http.port', 3000],
];

describe(loadConfig.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'amr-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('with nothing set', () => {
    const config = loadConfig({});

    it('listens on every interface on the standard ports, embedded database, one node, no TLS, no SMS', () => {
      expect(config.log).toEqual({ level: 'info', format: 'text', refusalSummaryS: 60 });
      expect(config.mqtt).toMatchObject({ host: '0.0.0.0', port: 1883, tls: null, url: 'mqtt://127.0.0.1:1883' });
      expect(config.http).toMatchObject({ host: '0.0.0.0', port: 3000 });
      expect(config.database).toEqual({ url: undefined, dataDir: './data' });
      expect(config.redisUrl).toBeUndefined();
      expect(config.redisPrefix).toBe('amr:');
      expect(config.deviceCa).toBeNull();
      expect(config.sms).toEqual({ gatewayToken: undefined, gatewayUrl: undefined });
      expect(config.webhooks).toEqual({ timeoutMs: 5_000, maxAttempts: 20, retryDelaysMs: [1_000, 2_000, 5_000, 15_000, 60_000, 300_000], allowPrivate: false });
    });

    it.each([...POSITIVE, ...NON_NEGATIVE, ...PORTS])('%s defaults to its documented value', (_variable, path, fallback) => {
      expect(valueAt(config, path)).toBe(fallback);
    });

    it('generates an admin token and an internal secret for the run, different each time, and a node name', () => {
      const other = loadConfig({});
      expect(config.adminTokenGenerated).toBe(true);
      expect(config.adminToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(other.adminToken).not.toBe(config.adminToken);
      expect(config.internal.username).toBe('platform:internal'); // ':' makes it no device id
      expect(config.internal.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(other.internal.password).not.toBe(config.internal.password);
      expect(config.nodeId).toMatch(/^node-[0-9a-f]{6}$/);
    });

    it('treats a variable set to the empty string as unset', () => {
      const empty = Object.fromEntries([...POSITIVE, ...NON_NEGATIVE, ...PORTS].map(([v]) => [v, '']));
      const blank = loadConfig({ ...empty, LOG_LEVEL: '', DATABASE_URL: '', REDIS_URL: '', AMR_ADMIN_TOKEN: '', AMR_WEBHOOK_RETRY_DELAYS_MS: '' });
      for (const [, path, fallback] of [...POSITIVE, ...NON_NEGATIVE, ...PORTS]) expect([path, valueAt(blank, path)]).toEqual([path, fallback]);
      expect(blank.adminTokenGenerated).toBe(true);
    });
  });

  it('takes every setting from its variable', () => {
    for (const [variable, path] of [...POSITIVE, ...NON_NEGATIVE]) {
      // a value no default has, within every pairing rule (burst ≥ rate, headers ≤ request)
      const env: Env = { AMR_RATE_TOKEN_PER_S: '0', AMR_RATE_ALARM_READS_PER_S: '0', AMR_RATE_ADDRESS_PER_S: '0', AMR_HTTP_HEADERS_TIMEOUT_MS: '7', [variable]: '7' };
      expect([variable, valueAt(loadConfig(env), path)]).toEqual([variable, 7]);
    }
    const config = loadConfig({
      LOG_LEVEL: 'debug', LOG_FORMAT: 'json', MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '::1', HTTP_PORT: '8080',
      MQTT_URL: 'mqtts://broker.example:8883', DATABASE_URL: 'postgres://amr@db/amr', AMR_DATA_DIR: 'memory://',
      REDIS_URL: 'rediss://cache:6380/1', AMR_REDIS_PREFIX: 'amr-staging:', AMR_ADMIN_TOKEN: 'a-long-admin-token-0123',
      AMR_INTERNAL_SECRET: 'internal', AMR_NODE_ID: 'node-a', AMR_WEBHOOK_RETRY_DELAYS_MS: '100, 200,0', AMR_WEBHOOK_ALLOW_PRIVATE: 'true',
      AMR_SMS_GATEWAY_TOKEN: 'a-long-gateway-token-01', AMR_SMS_GATEWAY_URL: 'https://sms.example/send',
    });
    expect(config).toMatchObject({
      log: { level: 'debug', format: 'json' },
      mqtt: { host: '127.0.0.1', port: 0, url: 'mqtts://broker.example:8883' },
      http: { host: '::1', port: 8080 },
      database: { url: 'postgres://amr@db/amr', dataDir: 'memory://' },
      redisUrl: 'rediss://cache:6380/1',
      redisPrefix: 'amr-staging:',
      adminToken: 'a-long-admin-token-0123',
      adminTokenGenerated: false,
      internal: { password: 'internal' },
      nodeId: 'node-a',
      webhooks: { retryDelaysMs: [100, 200, 0], allowPrivate: true },
      sms: { gatewayToken: 'a-long-gateway-token-01', gatewayUrl: 'https://sms.example/send' },
    });
    expect(loadConfig({ MQTT_PORT: '2883' }).mqtt.url).toBe('mqtt://127.0.0.1:2883'); // the platform's own clients follow the port
  });

  it.each(POSITIVE)('stops start-up on a bad %s, naming it', (variable) => {
    for (const bad of ['0', '-1', '1.5', 'ten', '1e400']) {
      expect(failure({ [variable]: bad })).toBe(`${variable}: expected a positive integer, got "${bad}"`);
    }
  });

  it.each(NON_NEGATIVE)('stops start-up on a bad %s, naming it, and takes 0 (off)', (variable, path) => {
    expect(valueAt(loadConfig({ [variable]: '0' }), path)).toBe(0);
    for (const bad of ['-1', '0.5', 'off']) expect(failure({ [variable]: bad })).toBe(`${variable}: expected an integer ≥ 0, got "${bad}"`);
  });

  it.each(PORTS)('stops start-up on a bad %s, naming it', (variable) => {
    for (const bad of ['65536', '-1', '80.5', 'eighteen83']) expect(failure({ [variable]: bad })).toBe(`${variable}: expected a TCP port 0-65535, got "${bad}"`);
    expect(failure({ [variable]: '65535' })).toBeUndefined();
  });

  it('refuses a burst smaller than its rate, unless the rate is 0 (no limit)', () => {
    expect(failure({ AMR_RATE_TOKEN_PER_S: '50', AMR_RATE_TOKEN_BURST: '10' })).toBe('AMR_RATE_TOKEN_BURST: must be at least AMR_RATE_TOKEN_PER_S (50), got 10');
    expect(failure({ AMR_RATE_ADDRESS_PER_S: '6' })).toBeUndefined(); // default burst 50
    expect(failure({ AMR_RATE_ALARM_READS_PER_S: '3000' })).toBe('AMR_RATE_ALARM_READS_BURST: must be at least AMR_RATE_ALARM_READS_PER_S (3000), got 2000');
    expect(loadConfig({ AMR_RATE_TOKEN_PER_S: '0', AMR_RATE_TOKEN_BURST: '1' }).httpLimits.token).toEqual({ perS: 0, burst: 1 });
  });

  it('refuses a headers deadline longer than the whole request’s', () => {
    expect(failure({ AMR_HTTP_HEADERS_TIMEOUT_MS: '20000' })).toBe('AMR_HTTP_HEADERS_TIMEOUT_MS: must not exceed AMR_HTTP_REQUEST_TIMEOUT_MS (10000), got 20000');
    expect(loadConfig({ AMR_HTTP_HEADERS_TIMEOUT_MS: '10000' }).http.headersTimeoutMs).toBe(10_000);
  });

  it('takes a log level and format only from their lists', () => {
    expect(failure({ LOG_LEVEL: 'verbose' })).toBe('LOG_LEVEL: expected one of error, warn, info, debug, got "verbose"');
    expect(failure({ LOG_FORMAT: 'xml' })).toBe('LOG_FORMAT: expected one of text, json, got "xml"');
  });

  it('reads AMR_WEBHOOK_ALLOW_PRIVATE as 1/true or 0/false only', () => {
    for (const on of ['1', 'true']) expect(loadConfig({ AMR_WEBHOOK_ALLOW_PRIVATE: on }).webhooks.allowPrivate).toBe(true);
    for (const off of ['0', 'false']) expect(loadConfig({ AMR_WEBHOOK_ALLOW_PRIVATE: off }).webhooks.allowPrivate).toBe(false);
    expect(failure({ AMR_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toBe('AMR_WEBHOOK_ALLOW_PRIVATE: expected 1 or 0, got "yes"');
  });

  it('reads the webhook retry delays as a list of milliseconds', () => {
    for (const bad of ['1000,,2000', '1000,', '1000,-5', '1s,2s', '1.5']) {
      expect(failure({ AMR_WEBHOOK_RETRY_DELAYS_MS: bad })).toBe(
        `AMR_WEBHOOK_RETRY_DELAYS_MS: expected a comma-separated list of milliseconds, e.g. "1000,2000,5000", got "${bad}"`,
      );
    }
  });

  it('takes each URL only with its own schemes', () => {
    const cases: [string, string, string][] = [
      ['MQTT_URL', 'http://broker:1883', 'unsupported scheme "http:" (expected mqtt: or mqtts:)'],
      ['DATABASE_URL', 'mysql://db/amr', 'unsupported scheme "mysql:" (expected postgres: or postgresql:)'],
      ['REDIS_URL', 'http://cache:6379', 'unsupported scheme "http:" (expected redis: or rediss:)'],
      ['AMR_SMS_GATEWAY_URL', 'ftp://sms.example', 'unsupported scheme "ftp:" (expected http: or https:)'],
      ['DATABASE_URL', 'db:5432/amr', 'unsupported scheme "db:" (expected postgres: or postgresql:)'],
      ['REDIS_URL', 'localhost 6379', 'not a URL (expected redis://… or rediss://…)'],
    ];
    for (const [variable, value, detail] of cases) expect(failure({ [variable]: value })).toBe(`${variable}: ${detail}`);
    expect(loadConfig({ DATABASE_URL: 'postgresql://amr@db/amr' }).database.url).toBe('postgresql://amr@db/amr');
  });

  it('refuses a Redis prefix that could reach into another deployment’s keys or topics', () => {
    for (const bad of ['amr/', 'amr*', 'a b', '#', 'x'.repeat(65)]) {
      expect(failure({ AMR_REDIS_PREFIX: bad })).toBe(`AMR_REDIS_PREFIX: expected 1-64 characters among A-Z a-z 0-9 _ . : -, got "${bad}"`);
    }
  });

  it('refuses an admin token or an SMS gateway token shorter than 16 characters', () => {
    expect(failure({ AMR_ADMIN_TOKEN: 'short-token-015' })).toBe('AMR_ADMIN_TOKEN: must be at least 16 characters');
    expect(failure({ AMR_SMS_GATEWAY_TOKEN: 'short-token-015' })).toBe('AMR_SMS_GATEWAY_TOKEN: must be at least 16 characters');
    expect(failure({ AMR_ADMIN_TOKEN: 'long-enough-token' })).toBeUndefined();
  });

  it('turns TLS on with both a certificate and a key that exist, on MQTTS_PORT', () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    writeFileSync(cert, 'certificate');
    writeFileSync(key, 'key');
    expect(loadConfig({ TLS_CERT: cert, TLS_KEY: key }).mqtt.tls).toEqual({ port: 8883, certFile: cert, keyFile: key });
    expect(loadConfig({ TLS_CERT: cert, TLS_KEY: key, MQTTS_PORT: '9883' }).mqtt.tls?.port).toBe(9883);
    expect(failure({ TLS_CERT: cert })).toBe('TLS_KEY: TLS needs both TLS_CERT and TLS_KEY (paths to PEM files)');
    expect(failure({ TLS_KEY: key })).toBe('TLS_CERT: TLS needs both TLS_CERT and TLS_KEY (paths to PEM files)');
    expect(failure({ TLS_CERT: join(dir, 'missing.pem'), TLS_KEY: key })).toBe(`TLS_CERT: file not found: ${join(dir, 'missing.pem')}`);
    expect(failure({ TLS_CERT: cert, TLS_KEY: key, MQTTS_PORT: '88830' })).toBe('MQTTS_PORT: expected a TCP port 0-65535, got "88830"');
  });

  it('names the variable at fault in the error itself', () => {
    try {
      loadConfig({ AMR_DELIVERY_TIMEOUT_S: 'soon' });
      throw new Error('loaded');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('AMR_DELIVERY_TIMEOUT_S');
    }
  });
});
