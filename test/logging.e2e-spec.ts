import { afterAll, describe, expect, it } from '@jest/globals';
import { ChildApp, MAINS, freePort } from './support/processes.js';
import { connackCode } from './support/device.js';
import { BOOT_TIMEOUT_MS } from './support/platform.js';

/** The compiled platform (`npm start`) with LOG_FORMAT=json, under a burst of refused logins. */
describe('logging', () => {
  const apps: ChildApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.kill()));
  });

  it('writes one JSON object per line at info level, and summarises refused CONNECTs once per interval instead of a line each', async () => {
    const [http, mqtt] = [await freePort(), await freePort()];
    const app = ChildApp.spawn(MAINS.platform, {
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(http),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqtt),
      AMR_DATA_DIR: 'memory://',
      AMR_ADMIN_TOKEN: 'logging-admin-token-0123456789',
      LOG_FORMAT: 'json',
      AMR_REFUSAL_SUMMARY_S: '1',
    });
    apps.push(app);
    await app.until((a) => a.output.includes('AMR 2.0 platform is running'), 'platform start-up');

    const url = `mqtt://127.0.0.1:${mqtt}`;
    for (let i = 0; i < 20; i++) expect(await connackCode(url, { clientId: `btn-nobody-${i}`, username: `btn-nobody-${i}`, password: 'guess' })).toBe(5);
    await app.until((a) => /refused 20 CONNECTs/.test(a.output), 'refusal summary', 10_000);

    const logLines = app.output.split('\n').filter((line) => line.startsWith('{'));
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      expect(entry).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), context: expect.any(String), msg: expect.any(String) }));
      expect(['info', 'warn', 'error', 'fatal']).toContain(entry.level);
    }
    const summaries = entries.filter((e) => String(e.msg).startsWith('refused'));
    expect(summaries).toEqual([
      expect.objectContaining({ level: 'warn', context: 'MqttRefusals', msg: expect.stringMatching(/^refused 20 CONNECTs in the last 1 s: .*unknown-device 5/) }),
    ]);
    // Nothing but the summary mentions the attempts: no line per refused login.
    expect(entries.filter((e) => String(e.msg).includes('btn-nobody'))).toEqual([]);
    // Every line of the output is JSON, but the start-up banner printed for the operator.
    const other = app.output.split('\n').filter((line) => line && !line.startsWith('{') && !line.startsWith(' ') && line !== 'AMR 2.0 platform is running');
    expect(other).toEqual([]);
  }, BOOT_TIMEOUT_MS);
});
