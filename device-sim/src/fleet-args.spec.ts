import { describe, expect, it } from '@jest/globals';
import { parseCli, UsageError } from './args.js';
import type { FleetOptions } from './fleet-args.js';
import { histogram, histogramPercentile, metricValue } from './platform-host.js';
import { sourceAddresses } from './scenarios/bench.js';

function fleet(argv: string[], env: NodeJS.ProcessEnv = {}): FleetOptions {
  const command = parseCli(argv, env);
  if (command.command !== 'run' || command.scenario !== 'fleet-run') throw new Error(`expected a fleet run, got ${JSON.stringify(command)}`);
  return command.options;
}

function usage(argv: string[]): string {
  try {
    parseCli(argv, {});
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseCli: fleet scenarios', () => {
  it('runs press without credentials on a platform of its own', () => {
    const o = fleet(['press']);
    expect(o).toMatchObject({ scenario: 'press', devices: 1, presses: 1, profiles: ['good'] });
    expect(o.api).toBeUndefined();
  });

  it('has per-scenario defaults that finish in about a minute', () => {
    expect(fleet(['fleet'])).toMatchObject({ devices: 50, seconds: 30, heartbeatS: 5 });
    expect(fleet(['burst'])).toMatchObject({ presses: 20, seconds: 5, devices: 20 });
    expect(fleet(['burst', '--presses', '40'])).toMatchObject({ presses: 40, devices: 40 });
    expect(fleet(['coverage'])).toMatchObject({ profiles: ['poor'], gapS: 10 });
    expect(fleet(['restart'])).toMatchObject({ seconds: 40, restartAtS: 20 });
    expect(fleet(['bench'])).toMatchObject({ devices: 1000, rate: 10, heartbeatS: 60 });
  });

  it('reads the common options', () => {
    const o = fleet(['burst', '--presses', '12', '--seconds', '3', '--profile', 'good,poor', '--report', 'out', '--accept-after', '0.5', '--seed', '9']);
    expect(o).toMatchObject({ presses: 12, seconds: 3, profiles: ['good', 'poor'], report: 'out', seed: 9 });
    expect(o.operator).toEqual({ acceptMs: 500, dispatchMs: 2000, closeMs: 2000 });
    expect(fleet(['fleet', '--profile', 'all']).profiles).toEqual(['good', 'urban-indoor', 'poor']);
    expect(fleet(['fleet', '--no-operator']).operator).toBeNull();
  });

  it('drives a given platform with --api and --token, its broker on the same host by default', () => {
    const o = fleet(['fleet', '--api', 'http://127.0.0.1:3000/', '--token', 'tok']);
    expect(o.api).toEqual({ url: 'http://127.0.0.1:3000', token: 'tok' });
    expect(o.mqttUrl).toBe('mqtt://127.0.0.1:1883');
    expect(fleet(['fleet', '--api', 'http://h:3000'], { AMR_ADMIN_TOKEN: 'from-env' }).api?.token).toBe('from-env');
  });

  it('takes --tls for a started platform, and mqtts:// with an optional --ca for a given one', () => {
    for (const scenario of ['fleet', 'burst', 'coverage', 'restart', 'bench']) {
      expect(fleet([scenario]).tls).toBe(false);
      expect(fleet([scenario, '--tls'])).toMatchObject({ tls: true });
      expect(fleet([scenario, '--tls']).caFile).toBeUndefined();
    }
    const given = fleet(['burst', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtts://h:8884', '--ca', 'ca.pem']);
    expect(given).toMatchObject({ tls: true, mqttUrl: 'mqtts://h:8884', caFile: 'ca.pem' });
    expect(fleet(['fleet', '--api', 'http://h:3000', '--token', 't', '--tls'])).toMatchObject({ tls: true, mqttUrl: 'mqtts://h:8883' });
    expect(fleet(['fleet', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtts://h:8883']).caFile).toBeUndefined();
    expect(fleet(['fleet', '--api', 'http://h:3000', '--token', 't']).tls).toBe(false);
  });

  it.each([
    [['burst', '--ca', 'ca.pem'], /--ca is for a given platform/],
    [['burst', '--tls', '--ca', 'ca.pem'], /--ca is for a given platform/],
    [['burst', '--api', 'http://h:3000', '--token', 't', '--ca', 'ca.pem'], /--ca needs TLS/],
    [['burst', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtt://h:1883', '--tls'], /--tls with --api needs an mqtts:\/\/ --mqtt URL/],
  ])('rejects %j', (argv, message) => {
    expect(usage(argv)).toMatch(message);
  });

  it('takes --baseline for the bench', () => {
    expect(fleet(['bench', '--devices', '10000', '--baseline', 'mqtt://127.0.0.1:1883']).baseline).toBe('mqtt://127.0.0.1:1883');
  });

  it.each([
    [['fleet', '--profile', 'space'], /--profile: must be good, urban-indoor, poor or all/],
    [['fleet', '--devices', '0'], /--devices/],
    [['burst', '--seconds', 'soon'], /--seconds/],
    [['fleet', '--baseline', 'mqtt://h:1883'], /--baseline is a bench option/],
    [['bench', '--baseline', 'http://h'], /--baseline|--mqtt/],
    [['restart', '--api', 'http://h:3000', '--token', 't'], /restart kills the platform/],
    [['bench', '--profile', 'poor'], /bench measures the platform/],
    [['fleet', '--mqtt', 'mqtt://h:1883'], /--mqtt needs --api/],
    [['fleet', '--api', 'http://h:3000'], /--api needs --token/],
    [['fleet', '--gap', '3'], /--gap is a coverage option/],
    [['fleet', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', (argv, message) => {
    expect(usage(argv)).toMatch(message);
  });
});

describe('bench helpers', () => {
  it('spreads connections over more loopback source addresses only when one runs short of ports', () => {
    expect(sourceAddresses(1000, 0)).toEqual(['127.0.0.1']);
    expect(sourceAddresses(50_000, 0)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(sourceAddresses(10, 2)).toEqual(['127.0.0.1', '127.0.0.2']);
  });

  it('reads percentiles of the platform histogram between two scrapes (bucket upper bounds)', () => {
    const scrape = (counts: number[]) =>
      [0.001, 0.005, 0.01, Infinity].map((le, i) => `amr_press_to_received_seconds_bucket{le="${le === Infinity ? '+Inf' : le}"} ${counts[i]}`).join('\n') +
      `\namr_press_to_received_seconds_sum 1\namr_press_to_received_seconds_count ${counts[3]}\namr_process_resident_memory_bytes 1048576\n`;
    const before = histogram(scrape([1, 1, 1, 1]), 'amr_press_to_received_seconds');
    const after = histogram(scrape([1, 51, 100, 101]), 'amr_press_to_received_seconds');
    expect(histogramPercentile(before, after, 50)).toBe(0.005);
    expect(histogramPercentile(before, after, 99)).toBe(0.01);
    expect(histogramPercentile(before, after, 100)).toBe(Infinity);
    expect(histogramPercentile(before, before, 50)).toBeUndefined();
    expect(metricValue(scrape([0, 0, 0, 0]), 'amr_process_resident_memory_bytes')).toBe(1048576);
  });
});
