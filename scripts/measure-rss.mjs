#!/usr/bin/env node
// Resident memory of `npm start` with the embedded database (and its node flags): a first start on
// an empty data directory, then a restart on the same directory. Run after `npm run build`:
//
//   node scripts/measure-rss.mjs [--idle 30] [--data-dir DIR] [--keep] [--node-arg=--flag]...
//
// For each start: the peak RSS up to /health answering 200, the peak over the whole run (VmHWM),
// and the steady RSS (median over the last third of the idle period), sampled every 100 ms from
// /proc/<pid>/status. The Node heap and the process's external memory come from /metrics.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist/apps/platform/src/main.js');
const TOKEN = 'measure-rss-0123456789';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const idleSeconds = Number(option('--idle', '30'));
const keep = args.includes('--keep');
// the flags `npm start` runs the platform with, then any given here
const startFlags = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
const nodeArgs = [...startFlags, ...args.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length))];
const dataDir = option('--data-dir', undefined) ?? join(mkdtempSync(join(tmpdir(), 'amr-rss-')), 'data');

const MiB = 1024 * 1024;
const mib = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined; // exited
  }
}

async function get(url, headers = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(label) {
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: {
      ...process.env,
      AMR_DATA_DIR: dataDir,
      DATABASE_URL: '',
      REDIS_URL: '',
      HTTP_PORT: '0',
      MQTT_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      AMR_ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let gone = false;
  exited.then(() => (gone = true));

  const samples = []; // { t, rss }
  const timer = setInterval(() => {
    const s = status(child.pid);
    if (s) samples.push({ t: Date.now() - started, rss: s.rss });
  }, 100);

  let port;
  while (!gone && port === undefined) {
    port = /HTTP\s+http:\/\/localhost:(\d+)/.exec(out)?.[1];
    if (port === undefined) await sleep(100);
  }
  while (!gone && (await get(`http://127.0.0.1:${port}/health`))?.status !== 200) await sleep(100);
  if (gone) {
    clearInterval(timer);
    throw new Error(`${label}: the platform exited before /health answered:\n${out}`);
  }
  const readyMs = Date.now() - started;
  const atReady = status(child.pid);
  const peakToReady = Math.max(atReady.hwm, ...samples.map((s) => s.rss));

  await sleep(idleSeconds * 1000);
  if (gone) {
    clearInterval(timer);
    throw new Error(`${label}: the platform exited while idle:\n${out}`);
  }
  const metrics = (await get(`http://127.0.0.1:${port}/metrics`, { authorization: `Bearer ${TOKEN}` }))?.text ?? '';
  const end = status(child.pid);
  clearInterval(timer);
  child.kill('SIGTERM');
  const { code, signal } = await exited;

  const idle = samples.filter((s) => s.t >= readyMs + (idleSeconds * 1000 * 2) / 3).map((s) => s.rss);
  idle.sort((a, b) => a - b);
  return {
    label,
    readyMs,
    peakToReady,
    peak: end.hwm,
    steady: idle[Math.floor(idle.length / 2)],
    heapUsed: metric(metrics, 'amr_nodejs_heap_size_used_bytes'),
    heapTotal: metric(metrics, 'amr_nodejs_heap_size_total_bytes'),
    external: metric(metrics, 'amr_nodejs_external_memory_bytes'),
    exit: signal ?? code,
  };
}

const results = [];
try {
  results.push(await run('first start'));
  results.push(await run('restart'));
} finally {
  if (!keep && !option('--data-dir', undefined)) rmSync(dirname(dataDir), { recursive: true, force: true });
}

console.log(`embedded database in ${dataDir}${keep ? '' : ' (removed)'}; idle ${idleSeconds} s; ${new Date().toISOString()}`);
console.log('start        ready    peak to ready  peak (VmHWM)  steady RSS  Node heap used/total  external');
for (const r of results) {
  console.log(
    [
      r.label.padEnd(11),
      `${(r.readyMs / 1000).toFixed(1)} s`.padStart(7),
      mib(r.peakToReady).padStart(14),
      mib(r.peak).padStart(13),
      mib(r.steady).padStart(11),
      `${mib(r.heapUsed)} / ${mib(r.heapTotal)}`.padStart(21),
      mib(r.external).padStart(9),
    ].join('  '),
  );
}
