import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { DEFAULTS, parseCli, UsageError, type PressOptions } from './args.js';

const noEnv = {};
const device = ['--device', 'dev-0001', '--secret', 's3cret'];

function press(argv: string[], env: NodeJS.ProcessEnv = noEnv): PressOptions {
  const command = parseCli(['press', ...argv], env);
  if (command.command !== 'run' || command.scenario !== 'press') throw new Error(`expected a press run, got ${JSON.stringify(command)}`);
  return command.options;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv = noEnv): string {
  try {
    parseCli(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
}

describe('parseCli: press', () => {
  it('has the documented defaults', () => {
    expect(press(device)).toEqual({
      credentials: { mode: 'device', deviceId: 'dev-0001', secret: 's3cret' },
      mqttUrl: 'mqtt://127.0.0.1:1883',
      mqttUrls: ['mqtt://127.0.0.1:1883'],
      encoding: 'cbor',
      presses: 1,
      intervalMs: 0,
      kind: 'panic',
      operator: false,
      timeoutMs: 10_000,
      retransmitMs: 2000,
      lat: 51.2194,
      lon: 4.4025,
      acc: 25,
      bat: 87,
      stateDir: join(homedir(), '.amr-device-sim'),
      json: false,
    });
    expect(DEFAULTS.cicId).toBe('cic-antwerpen');
  });

  it('reads every option', () => {
    const options = press([
      ...device,
      '--mqtt', 'mqtts://broker.example:8883',
      '--encoding', 'json',
      '--presses', '5',
      '--interval-ms', '250',
      '--kind', 'test',
      '--timeout', '2.5',
      '--retransmit-ms', '0',
      '--lat', '-33.9',
      '--lon', '151.2',
      '--bat', '0',
      '--state-dir', '/tmp/sim-state',
      '--json',
    ]);
    expect(options).toMatchObject({
      mqttUrl: 'mqtts://broker.example:8883',
      encoding: 'json',
      presses: 5,
      intervalMs: 250,
      kind: 'test',
      timeoutMs: 2500,
      retransmitMs: 0,
      lat: -33.9,
      lon: 151.2,
      bat: 0,
      stateDir: '/tmp/sim-state',
      json: true,
    });
  });

  it('provisions through the API when no device is given, with the default CIC', () => {
    const options = press(['--api', 'http://127.0.0.1:3000/', '--token', 'admin', '--operator']);
    expect(options.credentials).toEqual({ mode: 'provision', cicId: 'cic-antwerpen' });
    expect(options.api).toEqual({ url: 'http://127.0.0.1:3000', token: 'admin' });
    expect(options.operator).toBe(true);
    expect(press(['--api', 'http://h:3000', '--token', 't', '--cic', 'cic-gent']).credentials).toEqual({
      mode: 'provision',
      cicId: 'cic-gent',
    });
  });

  it('takes the admin token from AMR_ADMIN_TOKEN when --token is absent', () => {
    expect(press(['--api', 'http://h:3000'], { AMR_ADMIN_TOKEN: 'from-env' }).api?.token).toBe('from-env');
    expect(press(['--api', 'http://h:3000', '--token', 'flag'], { AMR_ADMIN_TOKEN: 'env' }).api?.token).toBe('flag');
  });

  it('allows a known device with the API for --operator', () => {
    const options = press([...device, '--api', 'http://h:3000', '--token', 't', '--operator']);
    expect(options.credentials.mode).toBe('device');
    expect(options.operator).toBe(true);
  });

  it('answers --help', () => {
    expect(parseCli(['--help'], noEnv)).toEqual({ command: 'help' });
    expect(parseCli(['press', '-h'], noEnv)).toEqual({ command: 'help' });
  });
});

describe('parseCli: errors (exit code 2)', () => {
  it.each([
    [[], /no scenario/],
    [['flee'], /unknown scenario: flee/],
    [['--device', 'x'], /scenario comes first/],
    [['press', '--device', 'dev-0001'], /--device needs --secret/],
    [['press', '--secret', 's'], /--secret needs --device/],
    [['press', '--device', 'a/b', '--secret', 's'], /not a device id/],
    [['press', '--device', 'ab', '--secret', 's'], /not a device id/],
    [['press', '--api', 'http://h:3000'], /--api needs --token/],
    [['press', ...device, '--token', 't'], /--token needs --api/],
    [['press', ...device, '--operator'], /--operator needs --api/],
    [['press', ...device, '--cic', 'cic-gent'], /--cic is only used when provisioning/],
    [['press', ...device, '--encoding', 'xml'], /--encoding: must be cbor or json/],
    [['press', ...device, '--kind', 'fire'], /--kind: must be panic or test/],
    [['press', ...device, '--presses', '0'], /--presses/],
    [['press', ...device, '--presses', '2.5'], /--presses/],
    [['press', ...device, '--presses', 'many'], /--presses/],
    [['press', ...device, '--timeout', '0'], /--timeout/],
    [['press', ...device, '--timeout', ''], /--timeout/],
    [['press', ...device, '--retransmit-ms', '-1'], /--retransmit-ms/],
    [['press', ...device, '--lat', '91'], /--lat/],
    [['press', ...device, '--lon', 'east'], /--lon/],
    [['press', ...device, '--bat', '101'], /--bat/],
    [['press', ...device, '--mqtt', 'http://h:1883'], /--mqtt/],
    [['press', ...device, '--mqtt', 'nonsense'], /--mqtt: not a URL/],
    [['press', '--api', 'ftp://h', '--token', 't'], /--api: must be an http/],
    [['press', ...device, '--bogus'], /Unknown option '--bogus'/],
    [['press', ...device, '--presses'], /--presses/],
    [['press', ...device, 'extra'], /unexpected argument: extra/],
  ])('%j', (argv, message) => {
    expect(usageError(argv as string[])).toMatch(message as RegExp);
  });
});

describe('parseCli: press with a list of brokers', () => {
  it('keeps the order; the first is mqttUrl', () => {
    const command = parseCli(['press', '--device', 'dev-0001', '--secret', 's', '--mqtt', 'mqtt://a:1884,mqtt://b:1885'], {});
    if (command.command !== 'run' || command.scenario !== 'press') throw new Error('not a press run');
    expect(command.options.mqttUrls).toEqual(['mqtt://a:1884', 'mqtt://b:1885']);
    expect(command.options.mqttUrl).toBe('mqtt://a:1884');
  });

  it('refuses an empty item with a usage error', () => {
    expect(() => parseCli(['press', '--device', 'dev-0001', '--secret', 's', '--mqtt', 'mqtt://a:1884,,mqtt://b:1'], {})).toThrow(UsageError);
  });
});
