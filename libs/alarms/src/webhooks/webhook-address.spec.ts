import { describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { guardedLookup, nonPublicKind, webhookUrlProblem } from './webhook-address.js';

describe('webhook addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local or metadata'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'unique local or metadata'],
    ['fc12::1', 'unique local or metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local or metadata'],
    ['224.0.0.1', 'multicast or reserved'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(nonPublicKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '193.191.245.1', '2a02:2c40::1', '2001:4860:4860::8888'])('accepts the public address %s', (address) => {
    expect(nonPublicKind(address)).toBeUndefined();
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254, a link-local or metadata address/],
    ['http://[fd00:ec2::254]/', /unique local or metadata/],
    ['http://2130706433/hook', /127\.0\.0\.1, a loopback address/], // 127.0.0.1 as one number
    ['http://0x7f.1/hook', /loopback/],
    ['http://[::ffff:7f00:1]/hook', /loopback/],
    ['https://localhost:8443/hook', /loopback name/],
    ['https://api.localhost./hook', /loopback name/],
    ['http://10.0.0.7/hook', /private/],
    ['ftp://cic.example.be/hook', /http:\/\/ or https:\/\//],
    ['file:///etc/passwd', /http:\/\/ or https:\/\//],
  ])('refuses the webhook URL %s at registration', (url, why) => {
    expect(webhookUrlProblem(url, false)).toMatch(why);
  });

  it('accepts public addresses and names, and private ones when allowed', () => {
    expect(webhookUrlProblem('https://cic-antwerpen.example.be/amr/webhook', false)).toBeUndefined();
    expect(webhookUrlProblem('https://193.191.245.1/hook', false)).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', true)).toBeUndefined();
    expect(webhookUrlProblem('ftp://127.0.0.1/hook', true)).toMatch(/http/);
  });

  describe(guardedLookup.name, () => {
    const lookupVia = (answers: LookupAddress[][], allowPrivate = false) => {
      let call = 0;
      const lookup = guardedLookup(allowPrivate, async () => answers[Math.min(call++, answers.length - 1)]!);
      return (host: string) =>
        new Promise<{ err: Error | null; address: unknown }>((resolve) => lookup(host, { all: true }, (err, address) => resolve({ err, address })));
    };

    it('refuses a name that resolved to a public address before and to the metadata address now (DNS rebinding)', async () => {
      const resolve = lookupVia([[{ address: '93.184.216.34', family: 4 }], [{ address: '169.254.169.254', family: 4 }]]);
      expect((await resolve('cic.example.be')).address).toEqual([{ address: '93.184.216.34', family: 4 }]);
      const second = await resolve('cic.example.be');
      expect(second.err?.message).toMatch(/cic\.example\.be resolves to 169\.254\.169\.254, a link-local or metadata address/);
    });

    it('refuses a name if any of its addresses is private, and connects only to the addresses it checked', async () => {
      const mixed = lookupVia([[{ address: '93.184.216.34', family: 4 }, { address: '::1', family: 6 }]]);
      expect((await mixed('cic.example.be')).err?.message).toMatch(/::1, a loopback address/);
      const allowed = lookupVia([[{ address: '127.0.0.1', family: 4 }]], true);
      expect(await allowed('receiver.local')).toEqual({ err: null, address: [{ address: '127.0.0.1', family: 4 }] });
    });
  });
});
