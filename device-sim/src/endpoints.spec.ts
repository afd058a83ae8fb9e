import { describe, expect, it } from '@jest/globals';
import { brokerAddress, EndpointChoice, parseMqttList } from './endpoints.js';

const fail = (message: string): never => {
  throw new Error(message);
};
const check = (url: string) => {
  new URL(url);
  return url;
};

describe('EndpointChoice', () => {
  it('with one endpoint is the single-broker back-off: 1 s, 2 s, 4 s … 30 s, reset on success', () => {
    const c = new EndpointChoice(1);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => c.failed())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000].map((waitMs) => ({ next: 0, waitMs })));
    c.connected();
    expect(c.failed()).toEqual({ next: 0, waitMs: 1000 });
  });

  it('moves on to the next endpoint on each failure, wrapping around, from where it was', () => {
    const c = new EndpointChoice(3, undefined, 1);
    expect(c.current).toBe(1);
    expect(c.failed().next).toBe(2);
    expect(c.failed().next).toBe(0);
    expect(c.failed().next).toBe(1);
  });

  it('stays on the endpoint that accepted it: a later loss starts from there', () => {
    const c = new EndpointChoice(2);
    c.failed(); // node 1 lost
    c.connected(); // on node 2 now
    expect(c.current).toBe(1);
    expect(c.failed()).toEqual({ next: 0, waitMs: 1000 }); // node 2 lost: back to node 1 after 1 s
  });

  it('doubles the wait only once the whole list has failed in a row', () => {
    const c = new EndpointChoice(2);
    expect([1, 2, 3, 4, 5].map(() => c.failed().waitMs)).toEqual([1000, 1000, 2000, 2000, 4000]);
  });

  it('refuses an empty list', () => {
    expect(() => new EndpointChoice(0)).toThrow(RangeError);
  });
});

describe('parseMqttList', () => {
  it('takes one URL, or several in order', () => {
    expect(parseMqttList('mqtt://a:1883', check, fail)).toEqual(['mqtt://a:1883']);
    expect(parseMqttList('mqtt://a:1884, mqtt://a:1885', check, fail)).toEqual(['mqtt://a:1884', 'mqtt://a:1885']);
    expect(parseMqttList('ws://a:80', check, fail)).toEqual(['ws://a:80']);
  });

  it('refuses empty items, repeats, ws:// in a list and mixed TLS', () => {
    expect(() => parseMqttList('mqtt://a:1,', check, fail)).toThrow(/without empty items/);
    expect(() => parseMqttList('mqtt://a:1,mqtt://a:1', check, fail)).toThrow(/listed twice/);
    expect(() => parseMqttList('ws://a:1,ws://b:1', check, fail)).toThrow(/mqtt:\/\/ or mqtts:\/\//);
    expect(() => parseMqttList('mqtt://a:1,mqtts://b:1', check, fail)).toThrow(/all mqtt:\/\/ or all mqtts:\/\//);
  });
});

describe('brokerAddress', () => {
  it('gives host, port (defaults 1883 / 8883) and TLS', () => {
    expect(brokerAddress('mqtt://h')).toEqual({ host: 'h', port: 1883, tls: false });
    expect(brokerAddress('mqtts://h')).toEqual({ host: 'h', port: 8883, tls: true });
    expect(brokerAddress('mqtt://[::1]:1999')).toEqual({ host: '::1', port: 1999, tls: false });
  });
});
