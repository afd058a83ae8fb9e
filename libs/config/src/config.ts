import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** One typed view of every run-time setting (CONTRACT §5), read once at start-up. */
export interface AmrConfig {
  /** What is logged and how (LOG_LEVEL, LOG_FORMAT); refusals are summarised every refusalSummaryS. */
  readonly log: { readonly level: 'error' | 'warn' | 'info' | 'debug'; readonly format: 'text' | 'json'; readonly refusalSummaryS: number };
  readonly mqtt: {
    readonly host: string;
    readonly port: number;
    /** TLS listener, on only when a certificate and key are configured. */
    readonly tls: { readonly port: number; readonly certFile: string; readonly keyFile: string } | null;
    /** How the platform's own services reach the broker. */
    readonly url: string;
    /** A connection that has not completed CONNECT (CONNACK sent) this long after its accept is closed. */
    readonly connectTimeoutMs: number;
    /** Connections from one source address waiting for their CONNACK at a time; one more is closed. */
    readonly maxPendingPerAddress: number;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** A request's headers must have arrived this long after its first byte (and a new connection's first request). */
    readonly headersTimeoutMs: number;
    /** The whole request, body included, must have arrived within this; a response (an SSE stream) is not bounded by it. */
    readonly requestTimeoutMs: number;
  };
  /** Request rates and streams per caller (docs/security.md, "HTTP limits"); per node. */
  readonly httpLimits: {
    /** Each integration token's requests to routes other than the alarm-working ones (0: no limit). */
    readonly token: RateLimit;
    /** Each integration token's reads of alarms, a separate and much larger bucket (0: no limit). */
    readonly alarmReads: RateLimit;
    /** Requests from one source address without a valid token, and to the public routes (0: no limit). */
    readonly address: RateLimit;
    /** Open SSE streams per token (admin or integration); one more is refused with 429. */
    readonly sseStreamsPerToken: number;
  };
  /**
   * The device CA (TLS_DEVICE_CA; docs/security.md "Device certificates"): the TLS listener asks
   * devices for a client certificate it signed; with its key (TLS_DEVICE_CA_KEY) the API issues
   * them. Null: no device certificates.
   */
  readonly deviceCa: {
    readonly certFile: string;
    /** Unset on a node that only checks certificates (a broker of its own). */
    readonly keyFile: string | undefined;
    /** Validity of an issued certificate (AMR_DEVICE_CERT_DAYS). */
    readonly validityDays: number;
  } | null;
  readonly database: { readonly url: string | undefined; readonly dataDir: string };
  readonly redisUrl: string | undefined;
  /**
   * Namespace of this deployment in Redis (AMR_REDIS_PREFIX): prefixes its keys and its pub/sub
   * channels, so that deployments sharing one Redis never see each other's sessions or messages.
   */
  readonly redisPrefix: string;
  readonly adminToken: string;
  /** True when AMR_ADMIN_TOKEN was unset and a token was generated for this run. */
  readonly adminTokenGenerated: boolean;
  /** Credentials of the platform's internal MQTT clients (never a valid device id: it holds ':'). */
  readonly internal: { readonly username: string; readonly password: string };
  /** Alarm pipeline tuning. */
  readonly alarms: {
    /** A press repeating a stored (device, seq) within this window is a retransmission. */
    readonly retransmitWindowS: number;
    /** An alarm not delivered to an integration of its CIC within this time is escalated. */
    readonly deliveryTimeoutS: number;
    /** A delivered alarm no operator accepted within this time is escalated. */
    readonly acceptTimeoutS: number;
    /** How often the escalation deadlines are checked. */
    readonly escalationSweepMs: number;
    /** In-alarm location period asked of the device on `received` (CONTRACT §3 cmd locEvery). */
    readonly locEveryS: number;
    /** A position less accurate than this, or older than positionMaxAgeS, does not route the alarm. */
    readonly routingMaxAccuracyM: number;
    readonly positionMaxAgeS: number;
  };
  /** Device supervision (docs/supervision.md). */
  readonly supervision: {
    /** How often the sweep looks for silent devices, low batteries and missed self-tests. */
    readonly sweepMs: number;
    /** A battery below this percent raises `low-battery`; it clears at this + 5. */
    readonly lowBatteryPct: number;
    /** A grant's default length when a device is assigned to a case. */
    readonly grantMonths: number;
    /** Expected self-test period (0 = not supervised). */
    readonly selfTestEveryS: number;
    /** The smallest heartbeat interval the API accepts. */
    readonly minHeartbeatS: number;
  };
  /** Personal-data retention (docs/security.md "Personal data"): days after the end, then erased. */
  readonly retention: {
    /** Positions, press payloads and outcome of an alarm, this many days after it was closed. */
    readonly alarmDataDays: number;
    /** A closed case's data (victim, perpetrator, notes, orders), this many days after it was closed. */
    readonly caseDataDays: number;
    /** How often the sweep looks for what is due. */
    readonly sweepMs: number;
  };
  /** Webhook delivery (see docs/webhooks.md). */
  readonly webhooks: {
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    /** Delay before retry n; the last one repeats. */
    readonly retryDelaysMs: readonly number[];
    /** Receivers on loopback, link-local, private and metadata addresses allowed (AMR_WEBHOOK_ALLOW_PRIVATE). */
    readonly allowPrivate: boolean;
  };
  /** The SMS path (CONTRACT §6; docs/sms-gateway.md). */
  readonly sms: {
    /** Bearer token of the SMS gateway on POST /api/v1/sms/inbound; unset: the route refuses everything (401). */
    readonly gatewayToken: string | undefined;
    /** Where acks sent by SMS are posted as `{to, text}`; unset: no ack goes out by SMS. */
    readonly gatewayUrl: string | undefined;
  };
  readonly nodeId: string;
  /** Wrong device secrets per source address (CONTRACT §1; broker/src/auth-throttle.ts). */
  readonly deviceAuth: {
    /** Wrong secrets or unknown ids from one address within the window before it is made to back off. */
    readonly maxFailures: number;
    readonly failureWindowS: number;
    /** The back-off doubles from 1 s up to this. */
    readonly maxBackoffS: number;
  };
}

/** A token bucket: `perS` requests a second on average, `burst` at once; perS 0 turns it off. */
export interface RateLimit {
  readonly perS: number;
  readonly burst: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(name, `expected a TCP port 0-65535, got "${raw}"`);
  }
  return value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(name, `expected a positive integer, got "${raw}"`);
  return value;
}

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(name, `expected an integer ≥ 0, got "${raw}"`);
  return value;
}

function rateLimit(env: Env, name: string, fallback: RateLimit): RateLimit {
  const perS = nonNegativeInt(env, `${name}_PER_S`, fallback.perS);
  const burst = positiveInt(env, `${name}_BURST`, fallback.burst);
  if (perS > 0 && burst < perS) throw new ConfigError(`${name}_BURST`, `must be at least ${name}_PER_S (${perS}), got ${burst}`);
  return { perS, burst };
}

function httpTimeouts(env: Env): { headersTimeoutMs: number; requestTimeoutMs: number } {
  const headersTimeoutMs = positiveInt(env, 'AMR_HTTP_HEADERS_TIMEOUT_MS', 5_000);
  const requestTimeoutMs = positiveInt(env, 'AMR_HTTP_REQUEST_TIMEOUT_MS', 10_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('AMR_HTTP_HEADERS_TIMEOUT_MS', `must not exceed AMR_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`);
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

function flag(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(name, `expected 1 or 0, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function msList(env: Env, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const items = raw.split(',').map((v) => v.trim());
  const values = items.map(Number);
  // An empty item ("1000,,2000") is a typo, not a delay of 0 ms.
  if (items.some((v) => v === '') || values.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ConfigError(name, `expected a comma-separated list of milliseconds, e.g. "1000,2000,5000", got "${raw}"`);
  }
  return values;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL (expected ${protocols.map((p) => `${p}//…`).join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `unsupported scheme "${parsed.protocol}" (expected ${protocols.join(' or ')})`);
  }
  return raw;
}

function redisPrefix(env: Env): string {
  const raw = env.AMR_REDIS_PREFIX;
  if (raw === undefined || raw === '') return 'amr:';
  // No MQTT wildcards, topic separators or Redis glob characters: it is put in front of topics
  // that are subscribed as Redis channel patterns.
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(raw)) {
    throw new ConfigError('AMR_REDIS_PREFIX', `expected 1-64 characters among A-Z a-z 0-9 _ . : -, got "${raw}"`);
  }
  return raw;
}

function tls(env: Env): AmrConfig['mqtt']['tls'] {
  const certFile = env.TLS_CERT;
  const keyFile = env.TLS_KEY;
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) {
    throw new ConfigError(certFile ? 'TLS_KEY' : 'TLS_CERT', 'TLS needs both TLS_CERT and TLS_KEY (paths to PEM files)');
  }
  for (const [name, file] of [['TLS_CERT', certFile], ['TLS_KEY', keyFile]] as const) {
    if (!existsSync(file)) throw new ConfigError(name, `file not found: ${file}`);
  }
  return { port: port(env, 'MQTTS_PORT', 8883), certFile, keyFile };
}

/** TLS_DEVICE_CA and TLS_DEVICE_CA_KEY: PEM files of a CA certificate and its key, checked now. */
function deviceCa(env: Env): AmrConfig['deviceCa'] {
  const certFile = env.TLS_DEVICE_CA || undefined;
  const keyFile = env.TLS_DEVICE_CA_KEY || undefined;
  if (!certFile) {
    if (keyFile) throw new ConfigError('TLS_DEVICE_CA', 'TLS_DEVICE_CA_KEY is set: also set TLS_DEVICE_CA, the PEM file of the device CA certificate');
    return null;
  }
  const certificate = readPem('TLS_DEVICE_CA', certFile);
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(certificate);
  } catch {
    throw new ConfigError('TLS_DEVICE_CA', `${certFile} is not a PEM certificate`);
  }
  if (!ca.ca) throw new ConfigError('TLS_DEVICE_CA', `${certFile} is not a CA certificate (basicConstraints CA:TRUE): see docs/security.md, "Device certificates"`);
  if (keyFile) {
    let key: KeyObject;
    try {
      key = createPrivateKey(readPem('TLS_DEVICE_CA_KEY', keyFile));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('TLS_DEVICE_CA_KEY', `${keyFile} is not an unencrypted PEM private key`);
    }
    if (!ca.checkPrivateKey(key)) throw new ConfigError('TLS_DEVICE_CA_KEY', `${keyFile} is not the key of the certificate in TLS_DEVICE_CA`);
  }
  return { certFile, keyFile, validityDays: positiveInt(env, 'AMR_DEVICE_CERT_DAYS', 730) };
}

function readPem(name: string, file: string): string {
  if (!existsSync(file)) throw new ConfigError(name, `file not found: ${file}`);
  return readFileSync(file, 'utf8');
}

/**
 * Reads and validates the environment. Throws ConfigError naming the variable at fault;
 * nothing else in the code base reads process.env.
 */
export function loadConfig(env: Env = process.env): AmrConfig {
  const adminToken = env.AMR_ADMIN_TOKEN;
  if (adminToken !== undefined && adminToken !== '' && adminToken.length < 16) {
    throw new ConfigError('AMR_ADMIN_TOKEN', 'must be at least 16 characters');
  }
  const smsToken = env.AMR_SMS_GATEWAY_TOKEN || undefined;
  if (smsToken !== undefined && smsToken.length < 16) throw new ConfigError('AMR_SMS_GATEWAY_TOKEN', 'must be at least 16 characters');
  const mqttHost = env.MQTT_HOST || '0.0.0.0';
  const mqttPort = port(env, 'MQTT_PORT', 1883);
  const internalPassword = env.AMR_INTERNAL_SECRET || randomBytes(24).toString('base64url');
  return {
    log: {
      level: oneOf(env, 'LOG_LEVEL', ['error', 'warn', 'info', 'debug'], 'info'),
      format: oneOf(env, 'LOG_FORMAT', ['text', 'json'], 'text'),
      refusalSummaryS: positiveInt(env, 'AMR_REFUSAL_SUMMARY_S', 60),
    },
    mqtt: {
      host: mqttHost,
      port: mqttPort,
      tls: tls(env),
      url: url(env, 'MQTT_URL', ['mqtt:', 'mqtts:']) ?? `mqtt://127.0.0.1:${mqttPort}`,
      connectTimeoutMs: positiveInt(env, 'MQTT_CONNECT_TIMEOUT_MS', 5_000),
      // Counted only until CONNACK, which follows a CONNECT within milliseconds: 5,000 connections
      // opened at once from one address never had more than a few dozen waiting. 1,000 leaves such
      // a storm, or many buttons behind one carrier NAT address, untouched, and bounds what one
      // address can hold open until the CONNECT deadline to about 20 MiB (~20 KiB a connection).
      maxPendingPerAddress: positiveInt(env, 'MQTT_MAX_PENDING_PER_ADDRESS', 1_000),
    },
    http: { host: env.HTTP_HOST || '0.0.0.0', port: port(env, 'HTTP_PORT', 3000), ...httpTimeouts(env) },
    httpLimits: {
      // A console polling its open alarms every second from 20 desks is 20 requests a second;
      // administration and alerts are a few a minute. The alarm-working routes are outside this.
      token: rateLimit(env, 'AMR_RATE_TOKEN', { perS: 20, burst: 200 }),
      alarmReads: rateLimit(env, 'AMR_RATE_ALARM_READS', { perS: 200, burst: 2_000 }),
      address: rateLimit(env, 'AMR_RATE_ADDRESS', { perS: 5, burst: 50 }),
      sseStreamsPerToken: positiveInt(env, 'AMR_SSE_STREAMS_PER_TOKEN', 5),
    },
    deviceCa: deviceCa(env),
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
      dataDir: env.AMR_DATA_DIR || './data',
    },
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: redisPrefix(env),
    adminToken: adminToken || randomBytes(24).toString('base64url'),
    adminTokenGenerated: !adminToken,
    internal: { username: 'platform:internal', password: internalPassword },
    alarms: {
      retransmitWindowS: positiveInt(env, 'AMR_RETRANSMIT_WINDOW_S', 3600),
      deliveryTimeoutS: positiveInt(env, 'AMR_DELIVERY_TIMEOUT_S', 30),
      acceptTimeoutS: positiveInt(env, 'AMR_ACCEPT_TIMEOUT_S', 120),
      escalationSweepMs: positiveInt(env, 'AMR_ESCALATION_SWEEP_MS', 500),
      locEveryS: positiveInt(env, 'AMR_LOC_EVERY_S', 15),
      routingMaxAccuracyM: positiveInt(env, 'AMR_ROUTING_MAX_ACCURACY_M', 25_000),
      positionMaxAgeS: positiveInt(env, 'AMR_POSITION_MAX_AGE_S', 1800),
    },
    supervision: {
      sweepMs: positiveInt(env, 'AMR_SUPERVISION_SWEEP_MS', 1000),
      lowBatteryPct: positiveInt(env, 'AMR_LOW_BATTERY_PCT', 20),
      grantMonths: positiveInt(env, 'AMR_GRANT_MONTHS', 6),
      selfTestEveryS: nonNegativeInt(env, 'AMR_SELF_TEST_EVERY_S', 0),
      minHeartbeatS: positiveInt(env, 'AMR_MIN_HEARTBEAT_S', 60),
    },
    retention: {
      alarmDataDays: positiveInt(env, 'AMR_RETAIN_ALARM_DATA_DAYS', 90),
      caseDataDays: positiveInt(env, 'AMR_RETAIN_CASE_DATA_DAYS', 365),
      sweepMs: positiveInt(env, 'AMR_RETENTION_SWEEP_MS', 3_600_000),
    },
    webhooks: {
      timeoutMs: positiveInt(env, 'AMR_WEBHOOK_TIMEOUT_MS', 5_000),
      maxAttempts: positiveInt(env, 'AMR_WEBHOOK_MAX_ATTEMPTS', 20),
      retryDelaysMs: msList(env, 'AMR_WEBHOOK_RETRY_DELAYS_MS', [1_000, 2_000, 5_000, 15_000, 60_000, 300_000]),
      allowPrivate: flag(env, 'AMR_WEBHOOK_ALLOW_PRIVATE'),
    },
    sms: { gatewayToken: smsToken, gatewayUrl: url(env, 'AMR_SMS_GATEWAY_URL', ['http:', 'https:']) },
    nodeId: env.AMR_NODE_ID || `node-${randomBytes(3).toString('hex')}`,
    deviceAuth: {
      maxFailures: positiveInt(env, 'AMR_AUTH_MAX_FAILURES', 5),
      failureWindowS: positiveInt(env, 'AMR_AUTH_FAILURE_WINDOW_S', 60),
      maxBackoffS: positiveInt(env, 'AMR_AUTH_MAX_BACKOFF_S', 60),
    },
  };
}
