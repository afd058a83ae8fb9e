/**
 * What Linux's /proc says about a process: its memory (VmRSS), its open-files limit (`ulimit -n`),
 * and which process listens on a TCP port (the plain broker the bench compares with). The
 * parsers are pure; the readers return undefined where /proc cannot be read.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** VmRSS of a /proc/<pid>/status text, bytes. */
export function parseRss(status: string): number | undefined {
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}

/** "Max open files" of a /proc/<pid>/limits text (`unlimited` is Infinity). */
export function parseOpenFilesLimit(limits: string): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  const n = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/** Socket inodes listening (state 0A) on `port` in a /proc/net/tcp or tcp6 text. */
export function listeningInodes(table: string, port: number): number[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] === '0A') out.push(Number(f[9]));
  }
  return out;
}

/**
 * CPU time (user + system) of a /proc/<pid>/stat text, seconds: fields 14 and 15, in clock ticks
 * of USER_HZ (100 on Linux). The command name (field 2) may hold spaces and parentheses.
 */
export function parseCpuSeconds(stat: string): number | undefined {
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the name: field 3 (state) is after[0], so field n is after[n - 3]
  const utime = Number(after[11]);
  const stime = Number(after[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) && stat.includes(')') ? (utime + stime) / 100 : undefined;
}

/**
 * The machine's CPU time of a /proc/stat text, in clock ticks summed over every core: `busy`
 * (everything but idle and iowait) and `total`, from its first (`cpu`) line.
 */
export function parseMachineCpu(stat: string): { busy: number; total: number } | undefined {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal (guest times are already within user and nice)
  const t = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (t.length < 5 || t.some((v) => !Number.isFinite(v))) return undefined;
  const total = t.reduce((a, b) => a + b, 0);
  return { busy: total - t[3]! - t[4]!, total };
}

export interface ListenCounters {
  listenOverflows: number;
  synRetransmits: number;
}

/**
 * The machine's TCP counters that tell a full accept queue (/proc/net/netstat, TcpExt): SYNs
 * dropped because a listener's accept queue was full (ListenOverflows), and SYNs clients sent
 * again for want of an answer (TCPSynRetrans, 1 s, 3 s, 7 s … after the first).
 */
export function parseListenCounters(netstat: string): ListenCounters | undefined {
  const lines = netstat.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  const get = (name: string) => values[names.indexOf(name)];
  const listenOverflows = get('ListenOverflows');
  const synRetransmits = get('TCPSynRetrans');
  if (listenOverflows === undefined || synRetransmits === undefined || !Number.isFinite(listenOverflows) || !Number.isFinite(synRetransmits)) return undefined;
  return { listenOverflows, synRetransmits };
}

export async function listenCounters(): Promise<ListenCounters | undefined> {
  return parseListenCounters(await readFile('/proc/net/netstat', 'utf8').catch(() => ''));
}

export async function machineCpu(): Promise<{ busy: number; total: number } | undefined> {
  return parseMachineCpu(await readFile('/proc/stat', 'utf8').catch(() => ''));
}

export async function procCpuSeconds(pid: number | 'self'): Promise<number | undefined> {
  return parseCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

export async function procRss(pid: number | 'self'): Promise<number | undefined> {
  return parseRss(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
}

export async function openFilesLimit(pid: number | 'self'): Promise<{ soft: number; hard: number } | undefined> {
  return parseOpenFilesLimit(await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => ''));
}

/**
 * The process listening on TCP `port` (any local address): processes named `comm` are looked at
 * first, then every other. Undefined when it cannot be found (another user's process, no /proc).
 */
export async function listenerPid(port: number, comm?: string): Promise<number | undefined> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')));
  const inodes = new Set(tables.flatMap((t) => listeningInodes(t, port)).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  const named: string[] = [];
  const others: string[] = [];
  for (const pid of pids) {
    const name = comm === undefined ? '' : (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    (comm !== undefined && name === comm ? named : others).push(pid);
  }
  for (const pid of [...named, ...others]) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if (inodes.has(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) return Number(pid);
    }
  }
  return undefined;
}
