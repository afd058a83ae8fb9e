import { describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../../test/support/eventually.js';
import { ApiClient } from './api.js';
import { SimulatedCic } from './cic.js';

describe(SimulatedCic.name, () => {
  it('sees alarms split across chunks, skips replayed ids and resumes with Last-Event-ID', async () => {
    const streams: (string | undefined)[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/api/v1/alarms?state=open') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
        return;
      }
      streams.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (streams.length === 1) {
        // one event cut inside its CRLF, then a keep-alive repeating its id; then the stream ends
        res.write('event: alarm.received\r\nid: 7-1\r\ndata: {"id":"a1","deviceId":"d1","kind":"panic","pressCount":1}\r');
        setTimeout(() => res.end('\n\r\nevent: keepalive\nid: 7-1\ndata: {}\n\n'), 20);
      } else {
        res.write('event: alarm.pressed\nid: 7-2\ndata: {"id":"a1","deviceId":"d1","pressCount":2}\n\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cic = new SimulatedCic(new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'token'), 'token', null);
    try {
      await cic.start();
      await eventually(async () => cic.arrivals.get('a1')?.length ?? 0, (n) => n === 2);

      expect(cic.receivedAt.get('a1')).toMatchObject({ deviceId: 'd1', kind: 'panic' });
      expect(cic.arrivals.get('a1')?.map(({ received, pressCount }) => ({ received, pressCount }))).toEqual([
        { received: true, pressCount: 1 },
        { received: false, pressCount: 2 },
      ]);
      expect(streams).toEqual([undefined, '7-1']);
      expect(cic.stats).toMatchObject({ events: 3, replayed: 1, reconnects: 1, repeatedReceived: 0 });
    } finally {
      await cic.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('confirms delivery of each alarm that arrives or is swept with its CIC\'s token, reading the admin\'s stream', async () => {
    const confirmed: string[] = [];
    let streamToken: string | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const token = req.headers.authorization?.replace('Bearer ', '');
      if (req.url === '/api/v1/alarms?state=open') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id":"a2","deviceId":"d2","cicId":"cic-antwerpen"},{"id":"a1","deviceId":"d1","cicId":"cic-limburg"}]');
        return;
      }
      const delivered = /^\/api\/v1\/alarms\/(\w+)\/delivered$/.exec(req.url ?? '');
      if (req.method === 'POST' && delivered) {
        confirmed.push(`${delivered[1]} ${token}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      streamToken = token;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: alarm.received\nid: 1\ndata: {"id":"a1","deviceId":"d1","cicId":"cic-antwerpen","pressCount":1}\n\n');
      res.write('event: alarm.pressed\nid: 2\ndata: {"id":"a1","deviceId":"d1","cicId":"cic-antwerpen","pressCount":2}\n\n');
      // handed over: the alarm arrives at its new CIC
      res.write('event: alarm.received\nid: 3\ndata: {"id":"a1","deviceId":"d1","cicId":"cic-limburg","pressCount":2}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const integration = new Map(['cic-antwerpen', 'cic-limburg'].map((c) => [c, new ApiClient(url, `token-${c}`)]));
    const cic = new SimulatedCic(new ApiClient(url, 'admin'), 'admin', null, { confirmDelivery: (cicId) => (cicId ? integration.get(cicId) : undefined) });
    try {
      await cic.start();
      await eventually(async () => cic.stats.delivered, (n) => n === 2);
      await cic.sweepOpen();
      await eventually(async () => cic.stats.delivered, (n) => n === 3);

      expect(streamToken).toBe('admin');
      expect(confirmed).toEqual(['a1 token-cic-antwerpen', 'a1 token-cic-limburg', 'a2 token-cic-antwerpen']);
      expect(cic.stats).toMatchObject({ delivered: 3, deliveryErrors: [], repeatedReceived: 1, swept: 1 });
    } finally {
      await cic.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
