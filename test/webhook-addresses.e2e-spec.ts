import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Integration } from '@amr/persistence';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';

/** Webhooks to loopback, link-local, private and metadata addresses, with the default AMR_WEBHOOK_ALLOW_PRIVATE. */
describe('webhook addresses', () => {
  const suite = usePlatform({ AMR_WEBHOOK_ALLOW_PRIVATE: '0', AMR_WEBHOOK_RETRY_DELAYS_MS: '50', AMR_WEBHOOK_MAX_ATTEMPTS: '100' });
  let server: Server;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local or metadata address/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /fd00:ec2::254, a unique local or metadata address/],
    ['http://127.0.0.1:8080/hook', /loopback/],
    ['http://[::ffff:a9fe:a9fe]/latest/meta-data/', /::ffff:a9fe:a9fe, a link-local or metadata address/],
    ['https://localhost/hook', /loopback name/],
    ['http://10.1.2.3/hook', /private/],
    ['http://192.168.0.10/hook', /private/],
    ['http://100.64.1.1/hook', /carrier-grade NAT/],
    ['http://[::]/hook', /unspecified/],
    ['http://[fe80::1]/hook', /link-local/],
    ['ftp://cic.example.be/hook', /http:\/\/ or https:\/\//],
  ])('refuses %s with 400 at registration, and on update', async (webhookUrl, why) => {
    const api = suite.platform.api();
    const created = await api.post('/integrations', { cicId: 'cic-namur', name: 'Namur', webhookUrl }).expect(400);
    expect(JSON.stringify(created.body.message)).toMatch(why);
    const plain = (await api.post('/integrations', { cicId: 'cic-namur', name: 'Namur' }).expect(201)).body;
    const updated = await api.patch(`/integrations/${plain.id}`, { webhookUrl }).expect(400);
    expect(JSON.stringify(updated.body.message)).toMatch(why);
  });

  it('accepts a public name, and checks it again each time it is resolved for a delivery', async () => {
    const api = suite.platform.api();
    const created = (await api.post('/integrations', { cicId: 'cic-limburg', name: 'Limburg', webhookUrl: 'https://cic-limburg.example.be/hook' }).expect(201)).body;
    // The name now resolves to the loopback (as a rebinding DNS would make it): here, a name
    // that does, written as if it had passed registration while resolving elsewhere.
    const port = (server.address() as AddressInfo).port;
    await suite.db.getRepository(Integration).update({ id: created.id }, { webhookUrl: `http://localhost:${port}/hook` });
    const { deviceId, secret } = await suite.platform.provision('cic-limburg');
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      await device.stage('received', 1);
      const [delivery] = await eventually(
        async () => (await api.get(`/integrations/${created.id}/deliveries`).expect(200)).body,
        (list: { state: string; attempts: number; lastError: string | null }[]) => list[0]?.attempts >= 2 && list[0]?.lastError !== null,
      );
      expect(delivery.state).toBe('pending');
      expect(delivery.lastError).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), a loopback address: webhooks go to public addresses only/);
      expect(requests).toBe(0);
    } finally {
      await device.close();
    }
  });
});
