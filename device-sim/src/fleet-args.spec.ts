import { describe, expect, it } from '@jest/globals';
import { parseCli, UsageError } from './args.js';
import type { FleetOptions } from './fleet-args.js';
import { histogram, histogramPercentile, metricSum, metricValue } from './platform-host.js';
import type { PressSample } from './measure.js';
import { reportSamples, SEQ_FLOOR, SEQ_RESERVE, seqBaseFrom, sourceAddresses } from './scenarios/bench.js';

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

  it('takes --mtls: TLS with a client certificate per button', () => {
    expect(fleet(['fleet', '--mtls'])).toMatchObject({ tls: true, mtls: true });
    expect(fleet(['press', '--mtls'])).toMatchObject({ tls: true, mtls: true });
    expect(fleet(['fleet']).mtls).toBe(false);
    expect(fleet(['fleet', '--api', 'http://h:3000', '--token', 't', '--mtls'])).toMatchObject({ tls: true, mtls: true, mqttUrl: 'mqtts://h:8883' });
  });

  it.each([
    [['bench', '--mtls'], /--mtls is not a bench option/],
    [['burst', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtt://h:1883', '--mtls'], /--mtls with --api needs an mqtts:\/\/ --mqtt URL/],
    [['burst', '--ca', 'ca.pem'], /--ca is for a given platform/],
    [['burst', '--tls', '--ca', 'ca.pem'], /--ca is for a given platform/],
    [['burst', '--api', 'http://h:3000', '--token', 't', '--ca', 'ca.pem'], /--ca needs TLS/],
    [['burst', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtt://h:1883', '--tls'], /--tls with --api needs an mqtts:\/\/ --mqtt URL/],
  ])('rejects %j', (argv, message) => {
    expect(usage(argv)).toMatch(message);
  });

  it('takes the bench modes: --flood, --storm, --idle counts, --devices-per-case', () => {
    expect(fleet(['bench'])).toMatchObject({ flood: false, storm: false, idle: [], devicesPerCase: 10, connectConcurrency: 256 });
    expect(fleet(['bench', '--devices', '10000', '--rate', '5000', '--flood'])).toMatchObject({ devices: 10000, rate: 5000, flood: true });
    expect(fleet(['bench', '--storm', '--devices-per-case', '1'])).toMatchObject({ storm: true, devicesPerCase: 1 });
    expect(fleet(['bench', '--idle', '10000,50000,100000'])).toMatchObject({ idle: [10000, 50000, 100000], devices: 100000 });
    expect(fleet(['bench', '--idle', '10k,50k']).idle).toEqual([10000, 50000]);
    expect(fleet(['fleet']).connectConcurrency).toBe(64);
  });

  it('kills the platform during the bench only with --restart-at', () => {
    expect(fleet(['bench']).restartAtS).toBeUndefined();
    expect(fleet(['bench', '--seconds', '30', '--restart-at', '10'])).toMatchObject({ seconds: 30, restartAtS: 10 });
    expect(fleet(['restart', '--restart-at', '5']).restartAtS).toBe(5);
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
    [['fleet', '--restart-at', '5'], /--restart-at is a restart and bench option/],
    [['bench', '--api', 'http://h:3000', '--token', 't', '--restart-at', '5'], /must be the one bench starts/],
    [['bench', '--storm', '--restart-at', '5'], /not with --idle, --flood or --storm/],
    [['bench', '--flood', '--restart-at', '5'], /not with --idle, --flood or --storm/],
    [['bench', '--idle', '100', '--restart-at', '5'], /not with --idle, --flood or --storm/],
    [['bench', '--seconds', '30', '--restart-at', '30'], /less than --seconds/],
    [['bench', '--profile', 'poor'], /bench measures the platform/],
    [['fleet', '--mqtt', 'mqtt://h:1883'], /--mqtt needs --api/],
    [['fleet', '--api', 'http://h:3000'], /--api needs --token/],
    [['fleet', '--gap', '3'], /--gap is a coverage option/],
    [['fleet', '--flood'], /--flood is a bench option/],
    [['burst', '--storm'], /--storm is a bench option/],
    [['fleet', '--idle', '100'], /--idle is a bench option/],
    [['fleet', '--rate', '5'], /--rate is a bench and failover option/],
    [['bench', '--idle', '100', '--flood'], /not with --flood or --storm/],
    [['bench', '--idle', '100', '--devices', '100'], /not with --devices or --rate/],
    [['bench', '--idle', '100,50'], /counts must increase/],
    [['bench', '--idle', 'many'], /--idle: device counts/],
    [['bench', '--idle', '0'], /--idle: device counts/],
    [['bench', '--devices-per-case', '0'], /--devices-per-case/],
    [['fleet', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', (argv, message) => {
    expect(usage(argv)).toMatch(message);
  });
});

describe('bench helpers', () => {
  it('spreads connections over one loopback source address per 1,000 devices (at most 250), or as many as asked', () => {
    expect(sourceAddresses(1000, 0)).toEqual(['127.0.0.1']);
    expect(sourceAddresses(10_000, 0)).toHaveLength(10);
    expect(sourceAddresses(10_000, 0)[9]).toBe('127.0.0.10');
    expect(sourceAddresses(1_000_000, 0)).toHaveLength(250);
    expect(sourceAddresses(10, 2)).toEqual(['127.0.0.1', '127.0.0.2']);
  });

  it('starts each run\'s seqs above the last run\'s, and wraps before 2^32', () => {
    expect(seqBaseFrom(undefined)).toBe(SEQ_FLOOR);
    expect(seqBaseFrom(12)).toBe(SEQ_FLOOR);
    expect(seqBaseFrom(5_000_000)).toBe(5_000_000);
    expect(seqBaseFrom(0xffff_ffff - SEQ_RESERVE + 1)).toBe(SEQ_FLOOR);
  });

  it('keeps at most N samples for the report, evenly spread, and every press not received', () => {
    const sample = (i: number, outcome: PressSample['outcome'] = 'received'): PressSample => ({
      deviceId: 'd', profile: 'direct', seq: i, atMs: i + 0.4, outcome, retransmissions: 0, duplicated: false, ...(outcome === 'received' ? { receivedMs: 1.23456 } : {}),
    });
    const samples = Array.from({ length: 1000 }, (_, i) => sample(i, i === 7 ? 'lost' : 'received'));
    const kept = reportSamples(samples, 100);
    expect(kept.filter((s) => s.outcome === 'received')).toHaveLength(100);
    expect(kept.some((s) => s.outcome === 'lost')).toBe(true);
    expect(kept[1]).toMatchObject({ atMs: 7, outcome: 'lost' });
    expect(kept[0]!.receivedMs).toBe(1.235);
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

  it('sums a counter over its labels, and reads 0 for one not counted yet', () => {
    const text = 'amr_device_messages_joined_total{channel="alarm"} 7\namr_device_messages_joined_total{channel="loc"} 2\namr_device_messages_joined_total_extra 100\n';
    expect(metricSum(text, 'amr_device_messages_joined_total')).toBe(9);
    expect(metricSum('', 'amr_device_messages_joined_total')).toBe(0);
    expect(metricSum(text, 'amr_device_messages_joined_total', { channel: 'loc' })).toBe(2);
  });
});

describe('parseCli: failover', () => {
  const db = ['--database-url', 'postgres://postgres@127.0.0.1:5432/x'];

  it('starts two nodes on the given PostgreSQL, 1000 devices, 2000 presses at 50/s, a kill every 15 s', () => {
    const o = fleet(['failover', ...db]);
    expect(o).toMatchObject({ scenario: 'failover', devices: 1000, presses: 2000, rate: 50, nodes: 2, killEveryS: 15, killRedis: false, profiles: [] });
    expect(o.redisUrl).toBeUndefined();
    expect(fleet(['failover', ...db, '--kill-redis', '--kill-every', '10', '--nodes', '3', '--rate', '10'])).toMatchObject({ killRedis: true, killEveryS: 10, nodes: 3, rate: 10 });
    expect(fleet(['failover', ...db, '--redis-url', 'redis://127.0.0.1:7000']).redisUrl).toBe('redis://127.0.0.1:7000');
  });

  it('drives given nodes with --api and --mqtt lists, one per node, in order', () => {
    const o = fleet(['failover', '--api', 'http://h:3001,http://h:3002', '--mqtt', 'mqtt://h:1884,mqtt://h:1885', '--token', 't']);
    expect(o.apiUrls).toEqual(['http://h:3001', 'http://h:3002']);
    expect(o.mqttUrls).toEqual(['mqtt://h:1884', 'mqtt://h:1885']);
    expect(o.api).toEqual({ url: 'http://h:3001', token: 't' });
    expect(o.killEveryS).toBe(0);
  });

  it('refuses what it cannot do, with a clear message', () => {
    expect(usage(['failover'])).toMatch(/--database-url postgres:\/\/… is needed/);
    expect(usage(['failover', '--api', 'http://h:1,http://h:2', '--token', 't'])).toMatch(/needs --mqtt/);
    expect(usage(['failover', '--api', 'http://h:1,http://h:2', '--mqtt', 'mqtt://h:1', '--token', 't'])).toMatch(/as many --api as --mqtt/);
    expect(usage(['failover', '--api', 'http://h:1,http://h:2', '--mqtt', 'mqtt://h:1,mqtt://h:2', '--token', 't', '--kill-every', '5'])).toMatch(/not with --api/);
    expect(usage(['failover', ...db, '--kill-redis', '--redis-url', 'redis://h:1'])).toMatch(/not with --redis-url/);
    expect(usage(['failover', ...db, '--redis-url', 'http://h'])).toMatch(/redis:\/\//);
    expect(usage(['failover', ...db, '--seconds', '5'])).toMatch(/no --seconds/);
    expect(usage(['fleet', '--kill-every', '5'])).toMatch(/failover option/);
    expect(usage(['fleet', '--api', 'http://h:1,http://h:2', '--token', 't'])).toMatch(/one URL/);
  });

  it('gives fleet scenarios with --api the buttons\' list of brokers', () => {
    const o = fleet(['fleet', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtt://h:1884,mqtt://h:1885']);
    expect(o.mqttUrl).toBe('mqtt://h:1884');
    expect(o.mqttUrls).toEqual(['mqtt://h:1884', 'mqtt://h:1885']);
    expect(usage(['fleet', '--api', 'http://h:3000', '--token', 't', '--mqtt', 'mqtt://h:1884,mqtts://h:1885'])).toMatch(/all mqtt:\/\/ or all mqtts/);
  });
});

describe('parseCli: the SMS path', () => {
  it('runs coverage and burst with the SMS path, the fallback wait 8 s unless given', () => {
    expect(fleet(['coverage', '--sms'])).toMatchObject({ scenario: 'coverage', sms: true, smsAfterS: 8 });
    expect(fleet(['burst', '--profile', 'all', '--sms', '--sms-after', '4'])).toMatchObject({ sms: true, smsAfterS: 4, profiles: ['good', 'urban-indoor', 'poor'] });
    expect(fleet(['burst'])).toMatchObject({ sms: false });
  });

  it('refuses --sms where it cannot run, and --sms-after without it', () => {
    expect(usage(['bench', '--sms'])).toMatch(/--sms is a fleet, burst and coverage option/);
    expect(usage(['burst', '--sms', '--api', 'http://x:3000', '--token', 't'])).toMatch(/--sms needs the platform the simulator starts/);
    expect(usage(['burst', '--sms-after', '3'])).toMatch(/--sms-after needs --sms/);
  });
});
