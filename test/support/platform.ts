import 'reflect-metadata';
import { afterAll, beforeAll } from '@jest/globals';
import type { DataSource } from 'typeorm';
import request from 'supertest';
import { loadConfig, type AmrConfig } from '@amr/config';
import { openDatabase, closeDatabase, resetDatabase } from '@amr/persistence';
import { startPlatform, type RunningPlatform } from '@amr/platform';

/** Budget for a suite's start-up and shutdown hooks (PGlite's initdb takes seconds on 2 cores). */
export const BOOT_TIMEOUT_MS = 120_000;

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * The database a suite runs against: PostgreSQL when TEST_DATABASE_URL is set (CI sets it on a
 * machine that has one), the embedded PGlite in memory otherwise. One per test file.
 */
export async function openTestDatabase(dataDir = 'memory://'): Promise<DataSource> {
  const db = await openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir });
  await resetDatabase(db);
  return db;
}

export function testConfig(env: Record<string, string> = {}): AmrConfig {
  return loadConfig({
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    AMR_ADMIN_TOKEN: ADMIN_TOKEN,
    AMR_DATA_DIR: 'memory://',
    AMR_NODE_ID: 'test-node',
    // The suites' webhook receivers listen on the loopback.
    AMR_WEBHOOK_ALLOW_PRIVATE: '1',
    ...env,
  });
}

/** Starts the real all-in-one platform on ephemeral ports against the given database. */
export async function startTestPlatform(db: DataSource, env: Record<string, string> = {}): Promise<TestPlatform> {
  const platform = await startPlatform(testConfig(env), { dataSource: db, logger: ['error'] });
  return new TestPlatform(platform);
}

export class TestPlatform {
  constructor(readonly running: RunningPlatform) {}

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.running.ports.mqtt}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.running.ports.http}`;
  }

  get http() {
    return request(this.running.app.getHttpServer());
  }

  /** An authenticated request helper: `api.post('/cases', body)` etc. */
  api(token = ADMIN_TOKEN) {
    const base = '/api/v1';
    const server = this.running.app.getHttpServer();
    return {
      get: (path: string) => request(server).get(base + path).set('Authorization', `Bearer ${token}`),
      post: (path: string, body: object = {}) => request(server).post(base + path).set('Authorization', `Bearer ${token}`).send(body),
      patch: (path: string, body: object = {}) => request(server).patch(base + path).set('Authorization', `Bearer ${token}`).send(body),
      delete: (path: string) => request(server).delete(base + path).set('Authorization', `Bearer ${token}`),
    };
  }

  /** A case in the given CIC and a button provisioned for it. */
  async provision(cicId = 'cic-antwerpen', caseBody: object = {}): Promise<{ caseId: string; deviceId: string; secret: string }> {
    const created = await this.api().post('/cases', { homeCicId: cicId, riskLevel: 'high', ...caseBody }).expect(201);
    const device = await this.api().post('/devices', { caseId: created.body.id }).expect(201);
    return { caseId: created.body.id, deviceId: device.body.deviceId, secret: device.body.secret };
  }

  async integrationToken(cicId: string): Promise<string> {
    const res = await this.api().post('/integrations', { cicId, name: `console ${cicId}` }).expect(201);
    return res.body.token as string;
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return this.running.metrics.total(name, labels);
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

/**
 * Registers the suite's hooks: one database (reset) and one real platform for the whole file,
 * both closed after it. Read `suite.platform` inside tests.
 */
export function usePlatform(env: Record<string, string> = {}): { readonly platform: TestPlatform; readonly db: DataSource } {
  const suite = {} as { platform: TestPlatform; db: DataSource };
  beforeAll(async () => {
    suite.db = await openTestDatabase();
    suite.platform = await startTestPlatform(suite.db, env);
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await suite.platform?.close();
    if (suite.db) await closeDatabase(suite.db);
  }, BOOT_TIMEOUT_MS);
  return suite;
}

export { closeDatabase };
