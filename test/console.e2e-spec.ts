import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';

/**
 * The operator's console (docs/console.md) in a real browser: Debian's Chromium driven by
 * playwright-core, against the real platform. Without Chromium the suite is skipped and says so.
 * CONSOLE_SCREENSHOTS=1 writes docs/console-board.png and docs/console-detail.png.
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (!CHROMIUM) process.stdout.write('console e2e: SKIPPED — no Chromium at /usr/bin/chromium (`apt-get install chromium` to run it)\n');
const describeInBrowser = CHROMIUM ? describe : describe.skip;
const AXE = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url));
const docs = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1';
const FLOW_TIMEOUT_MS = 90_000;

const CASE = {
  reference: 'AN.12.L3.004512/25',
  riskLevel: 'critical',
  responderNotes: 'Third floor, door code 4711. Two children at home.',
  perpetrator: { name: 'J. Peeters', description: 'ex-partner, 1.85 m, beard', vehicle: 'grey VW Golf, 1-ABC-123', weaponsKnown: true },
  protectionOrders: [{ type: 'no-contact', places: ['Kerkstraat 12, 2000 Antwerpen'], perimeterM: 200 }],
  victim: { name: 'A. Janssens', phone: '+32470000000', languages: ['nl', 'fr'] },
};

describeInBrowser('the operator\'s console in a browser', () => {
  // Declared before the platform's hooks: the browser closes (its streams with it) before the platform does.
  let browser: Browser;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  const suite = usePlatform({ AMR_SUPERVISION_SWEEP_MS: '100', AMR_LOW_BATTERY_PCT: '20' });
  beforeAll(async () => {
    const res = await fetch(`${suite.platform.httpUrl}/console/`);
    if (res.status !== 200) throw new Error(`/console/ answered ${res.status}: run \`npm run build\` before this suite`);
  });

  /** A fresh tab at 1366×768, the requests it makes recorded. */
  async function newPage(): Promise<{ page: Page; requests: { url: string; authorization?: string }[] }> {
    // bypassCSP lets the test inject axe-core; the console itself runs under its strict policy otherwise.
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
    const page = await context.newPage();
    const requests: { url: string; authorization?: string }[] = [];
    page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return { page, requests };
  }

  async function signedIn(token: string) {
    const opened = await newPage();
    await opened.page.goto(`${suite.platform.httpUrl}/console#token=${encodeURIComponent(token)}`);
    await opened.page.locator('#stream-state[data-state="live"]').waitFor();
    return opened;
  }

  /** axe-core, injected from node_modules: no serious or critical violation. */
  async function expectAccessible(page: Page): Promise<void> {
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(`axe.run(document).then((result) => result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ': ' + v.help + ' — ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`);
    expect(violations).toEqual([]);
  }

  it('shows a press on the board as the platform pushes it, and the operator works it to the end; another CIC sees nothing', async () => {
    const antwerpen = await suite.platform.integrationToken('cic-antwerpen');
    const liege = await suite.platform.integrationToken('cic-liege');
    const { page, requests } = await signedIn(antwerpen);
    const other = await signedIn(liege);

    // The token left the address bar, lives in this tab's sessionStorage, and travels only as a header.
    expect(page.url()).toBe(`${suite.platform.httpUrl}/console/`);
    expect(await page.evaluate(`sessionStorage.getItem('amr.console.token')`)).toBe(antwerpen);
    await expect(page.locator('#who').textContent()).resolves.toContain('CIC Antwerpen');

    const { deviceId, secret } = await suite.platform.provision('cic-antwerpen', CASE);
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    const row = page.locator('tr.alarm-row', { hasText: CASE.reference });
    const pressedAt = Date.now();
    const requestsBefore = requests.length;
    const [, shownAt] = await Promise.all([
      device.press({ seq: 1, ts: Math.floor(pressedAt / 1000), loc: { lat: 51.2194, lon: 4.4025, acc: 20, ts: Math.floor(pressedAt / 1000) - 5, src: 'gnss' } }),
      row.waitFor().then(() => Date.now()),
    ]);
    process.stdout.write(`console: press on the board ${shownAt - pressedAt} ms after it was sent\n`);
    // It came over the stream the board already had open: not by reconnecting the stream, reading
    // the list again or reloading the page.
    expect(requests.slice(requestsBefore).filter((r) => /\/api\/v1\/(events|alarms\?)|\/console\/?$/.test(r.url))).toEqual([]);
    expect(page.url()).toBe(`${suite.platform.httpUrl}/console/`);
    const alarmId = (await device.stage('received', 1)).alarm!;

    // Unmissable: highlighted, the title flashes; and confirmed as delivered once on the board.
    await expect(row.getAttribute('class')).resolves.toContain('unseen');
    await page.waitForFunction(`document.title.includes('New alarm')`);
    await expect(row.textContent()).resolves.toMatch(/New.*critical.*AN\.12\.L3\.004512\/25/);
    const delivered = await eventually(() => suite.platform.api(antwerpen).get(`/alarms/${alarmId}`).then((r) => r.body), (a) => a.deliveredAt !== null);
    expect(delivered.timeline).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'delivered', via: 'confirmation' })]));
    // Its service-level clock: once delivered, the operator's accept is awaited, against the CIC's deadline.
    await page.waitForFunction(`document.querySelector('tr.alarm-row .sla')?.textContent?.startsWith('accept in')`);

    // A second, older-risk alarm of the CIC, so the board shows its order.
    const second = await suite.platform.provision('cic-antwerpen', { reference: 'AN.12.L3.000981/25', riskLevel: 'medium' });
    const secondDevice = await TestDevice.connect(suite.platform.mqttUrl, second.deviceId, second.secret);
    await secondDevice.press({ seq: 1, loc: { lat: 51.2301, lon: 4.4162, acc: 600, src: 'cell' } });
    await page.locator('tr.alarm-row', { hasText: 'AN.12.L3.000981/25' }).waitFor();
    await expect(page.locator('tr.alarm-row .open-alarm').allTextContents()).resolves.toEqual([CASE.reference, 'AN.12.L3.000981/25']);
    if (SCREENSHOTS) await page.screenshot({ path: docs('console-board.png') });

    // The detail: case context, the position on the map, the verified timeline.
    await row.locator('.open-alarm').click();
    const detail = page.locator('#detail');
    await detail.locator('.verdict.valid').waitFor();
    const text = (await detail.textContent())!;
    for (const expected of [CASE.reference, 'critical', 'J. Peeters', 'grey VW Golf, 1-ABC-123', 'Weapons known', 'no-contact: Kerkstraat 12, 2000 Antwerpen, 200 m',
      'door code 4711', 'A. Janssens', '+32470000000', 'nl, fr', deviceId, '51.21940, 4.40250 ± 20 m (gnss)', 'Timeline verified']) {
      expect(text).toContain(expected);
    }
    // The country with the handling CIC's area marked, and a close-up with the accuracy circle.
    const [country, closeUp] = [detail.locator('svg.map').nth(0), detail.locator('svg.map').nth(1)];
    await expect(country.locator('path.area').count()).resolves.toBe(11);
    await expect(country.locator('path.area.own').getAttribute('data-cic')).resolves.toBe('cic-antwerpen');
    await expect(country.locator('circle.fix.latest').count()).resolves.toBe(1);
    await expect(closeUp.locator('circle.accuracy').getAttribute('r')).resolves.toBe('0.02');
    await expect(closeUp.getAttribute('aria-label')).resolves.toContain('51.21940, 4.40250 ± 20 m');
    await expect(row.getAttribute('class')).resolves.not.toContain('unseen');
    await page.waitForFunction(`document.title === 'AMR console'`);
    await expectAccessible(page);
    if (SCREENSHOTS) await page.screenshot({ path: docs('console-detail.png') });

    // Accept (click) → the button vibrates double; the detail shows the new stage.
    await page.getByRole('button', { name: 'Accept (A)' }).click();
    expect(await device.stage('accepted', 1)).toMatchObject({ alarm: alarmId, vib: 'double' });
    await detail.locator('.stage[data-stage="accepted"]').waitFor();
    await expect(detail.locator('.button-stage').textContent()).resolves.toContain('accepted — vibration double');

    // Dispatch with the keyboard: D opens the form on the unit field.
    await page.keyboard.press('d');
    expect(await page.evaluate(`document.activeElement.id`)).toBe('dispatch-unit');
    await page.keyboard.type('ANT-21');
    await page.locator('#dispatch-eta').fill('6');
    await page.keyboard.press('Enter');
    expect(await device.stage('dispatched', 1)).toMatchObject({ alarm: alarmId, vib: 'triple' });
    await detail.locator('.stage[data-stage="dispatched"]').waitFor();
    await expect(detail.locator('.timeline-list').textContent()).resolves.toMatch(/Dispatched → button: triple vibration via mqtt — by integration:[0-9a-f-]+, unit ANT-21, etaMin 6/);

    // Close with an outcome → `closed` (no vibration), and the alarm leaves the board.
    await page.getByRole('button', { name: 'Close… (C)' }).click();
    await page.getByLabel('Outcome').fill('perpetrator arrested');
    await page.getByRole('button', { name: 'Close alarm' }).click();
    expect(await device.stage('closed', 1)).toMatchObject({ alarm: alarmId, vib: 'none' });
    await detail.locator('.stage[data-stage="closed"]').waitFor();
    await row.waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await expect(detail.textContent()).resolves.toContain('Open an alarm on the board');

    // Another CIC's operator saw nothing of either alarm.
    await expect(other.page.locator('#board').textContent()).resolves.toBe('No open alarms.');
    expect(other.requests.filter((r) => r.url.includes(alarmId))).toEqual([]);
    expect((await suite.platform.api(liege).get('/alarms?state=open').expect(200)).body).toEqual([]);

    // The token never appeared in a URL; every API request carried it as the Authorization header.
    expect(requests.filter((r) => r.url.includes(antwerpen))).toEqual([]);
    const apiRequests = requests.filter((r) => r.url.includes('/api/v1/'));
    expect(apiRequests.length).toBeGreaterThan(3);
    expect(apiRequests.every((r) => r.authorization === `Bearer ${antwerpen}`)).toBe(true);
    expect(pageErrors).toEqual([]);
    await Promise.all([device.close(), secondDevice.close()]);
  }, FLOW_TIMEOUT_MS);

  it('shows a technical alert as it is raised, and the operator acknowledges it', async () => {
    const token = await suite.platform.integrationToken('cic-antwerpen');
    const { page } = await signedIn(token);
    await page.getByRole('button', { name: /Technical alerts/ }).click();
    const { deviceId, secret } = await suite.platform.provision('cic-antwerpen');
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await device.publishRaw('status', Buffer.from(JSON.stringify({ seq: 1, bat: 12 })));

    const row = page.locator(`tr[data-alert-id]`, { hasText: deviceId });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/Low battery.*battery 12 %/);
    await expect(page.locator('#alert-count').textContent()).resolves.toBe('1');
    await expectAccessible(page);
    await row.getByRole('button', { name: /Acknowledge/ }).click();
    await row.locator('text=/^by integration:/').waitFor();
    await expect(page.locator('#alert-count').textContent()).resolves.toBe('0');
    const [stored] = (await suite.platform.api(token).get(`/alerts?deviceId=${deviceId}`).expect(200)).body;
    expect(stored).toMatchObject({ type: 'low-battery', acknowledgedAt: expect.any(String), acknowledgedBy: expect.stringMatching(/^integration:/) });
    expect(pageErrors).toEqual([]);
    await device.close();
  }, FLOW_TIMEOUT_MS);

  it('signs in through the form with the admin token and shows the CICs on the map, the fleet and the integrations', async () => {
    const { page } = await newPage();
    await page.goto(`${suite.platform.httpUrl}/console`);
    await page.getByLabel('Integration token of your CIC, or the admin token').waitFor();
    await expectAccessible(page);

    await page.getByLabel('Integration token of your CIC, or the admin token').fill('not-a-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-in-error', { hasText: 'not known' }).waitFor();

    await page.getByLabel('Integration token of your CIC, or the admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await expect(page.locator('#who').textContent()).resolves.toContain('Administrator');
    await page.getByRole('button', { name: 'Administration' }).click();
    const admin = page.locator('#admin');
    await admin.locator('h3', { hasText: 'Emergency centres (11)' }).waitFor();
    await expect(admin.locator('svg.map path.area').count()).resolves.toBe(11);
    const text = (await admin.textContent())!;
    expect(text).toContain('CIC Antwerpen');
    expect(text).toContain('Fleet health');
    expect(text).toContain('console cic-antwerpen');
    await expectAccessible(page);
    expect(pageErrors).toEqual([]);
  }, FLOW_TIMEOUT_MS);
});
