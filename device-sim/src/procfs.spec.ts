import { describe, expect, it } from '@jest/globals';
import { listenCounters, listeningInodes, machineCpu, openFilesLimit, parseCpuSeconds, parseListenCounters, parseMachineCpu, parseOpenFilesLimit, parseRss, procCpuSeconds, procRss } from './procfs.js';

describe('procfs', () => {
  it("reads the machine's busy and total CPU ticks from /proc/stat (idle and iowait are not busy)", () => {
    const stat = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 12345\n';
    expect(parseMachineCpu(stat)).toEqual({ busy: 160, total: 1000 });
    expect(parseMachineCpu('intr 1\n')).toBeUndefined();
  });

  it("reads this machine's CPU ticks, and they move forward", async () => {
    const before = await machineCpu();
    let x = 0;
    for (let i = 0; i < 3e7; i++) x += i % 7;
    await new Promise((r) => setTimeout(r, 30));
    const after = await machineCpu();
    expect(x).toBeGreaterThan(0);
    expect(after!.total).toBeGreaterThan(before!.total);
    expect(after!.busy).toBeGreaterThan(before!.busy);
  });

  it('reads VmRSS in bytes', () => {
    expect(parseRss('Name:\tmosquitto\nVmHWM:\t    6000 kB\nVmRSS:\t    5676 kB\n')).toBe(5676 * 1024);
    expect(parseRss('')).toBeUndefined();
  });

  it('reads the open-files limit (soft and hard)', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             unlimited            unlimited            processes \nMax open files            20000                20000                files     \n';
    expect(parseOpenFilesLimit(limits)).toEqual({ soft: 20000, hard: 20000 });
    expect(parseOpenFilesLimit('Max open files            1024                 unlimited            files')).toEqual({ soft: 1024, hard: Infinity });
    expect(parseOpenFilesLimit('')).toBeUndefined();
  });

  it('finds the inode of a socket listening on a port (state 0A), IPv4 and IPv6 tables', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 31337 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:075B 0100007F:8F2A 01 00000000:00000000 00:00000000 00000000   105        0 41414 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22222 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(listeningInodes(tcp, 1883)).toEqual([31337]);
    expect(listeningInodes(tcp, 8080)).toEqual([22222]);
    expect(listeningInodes(tcp, 1884)).toEqual([]);
  });

  it('reads CPU time (user + system, clock ticks of 1/100 s), whatever the command name holds', () => {
    const stat = '2940 (mosq (x) y) S 1 2940 2940 0 -1 4194624 1500 0 0 0 1234 567 0 0 20 0 1 0 1500 10000000 1419 18446744073709551615';
    expect(parseCpuSeconds(stat)).toBeCloseTo(18.01, 5);
    expect(parseCpuSeconds('')).toBeUndefined();
  });

  it('reads this process\'s own figures', async () => {
    expect(await procCpuSeconds('self')).toBeGreaterThan(0);
    expect(await procRss('self')).toBeGreaterThan(1024 * 1024);
    expect((await openFilesLimit('self'))?.soft).toBeGreaterThan(0);
  });

  it('reads the full-accept-queue counters of /proc/net/netstat, and this machine\'s', async () => {
    const netstat = 'TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\nTcpExt: 0 51779 51779 23107\nIpExt: InNoRoutes\nIpExt: 0\n';
    expect(parseListenCounters(netstat)).toEqual({ listenOverflows: 51779, synRetransmits: 23107 });
    expect(parseListenCounters('IpExt: InNoRoutes\nIpExt: 0\n')).toBeUndefined();
    const here = await listenCounters();
    expect(here?.listenOverflows).toBeGreaterThanOrEqual(0);
  });
});
