/**
 * `npm run cluster`: several full platform nodes on one machine, on one PostgreSQL and one Redis
 * (CONTRACT §5), to try failover by hand: kill one (`kill -9 <pid>`) and watch the buttons move
 * on to the next broker of their list. Each node is the all-in-one app as a child process; its
 * output comes through prefixed with its node id. Ctrl-C (or SIGTERM) is passed on to every node,
 * and this exits once they all have.
 *
 *   npm run cluster -- [--nodes 2] [--http-base 3001] [--mqtt-base 1884] [--host 127.0.0.1]
 *                      [--database-url postgres://…] [--redis-url redis://…]
 */
import { parseArgs } from 'node:util';
import { startCluster, type ClusterNode } from '../../../device-sim/src/cluster-host.js';

const USAGE = `Usage: npm run cluster -- [--nodes N] [--http-base PORT] [--mqtt-base PORT] [--host ADDRESS]
                          [--database-url URL] [--redis-url URL]
  --nodes N           nodes to start (default 2): node-1 … node-N
  --http-base PORT    node i listens for HTTP on PORT + i - 1 (default 3001)
  --mqtt-base PORT    node i listens for MQTT on PORT + i - 1 (default 1884)
  --host ADDRESS      address the nodes listen on (default 127.0.0.1)
  --database-url URL  PostgreSQL shared by the nodes (default $DATABASE_URL; required)
  --redis-url URL     Redis shared by the nodes (default $REDIS_URL; required)
AMR_ADMIN_TOKEN and AMR_INTERNAL_SECRET are passed on (one is generated and printed when unset).
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(code);
}

function portOption(name: string, value: string | undefined, fallback: number, nodes: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n + nodes - 1 <= 65_535)) fail(`--${name}: a port from 1 to ${65_536 - nodes}, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        nodes: { type: 'string' },
        'http-base': { type: 'string' },
        'mqtt-base': { type: 'string' },
        host: { type: 'string' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message.split('\n')[0]}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const nodes = values.nodes === undefined ? 2 : /^\d+$/.test(values.nodes) ? Number(values.nodes) : NaN;
  if (!(nodes >= 1 && nodes <= 16)) fail(`--nodes: a whole number from 1 to 16, got ${JSON.stringify(values.nodes)}`);
  const httpBase = portOption('http-base', values['http-base'], 3001, nodes);
  const mqttBase = portOption('mqtt-base', values['mqtt-base'], 1884, nodes);
  const databaseUrl = values['database-url'] ?? process.env['DATABASE_URL'];
  const redisUrl = values['redis-url'] ?? process.env['REDIS_URL'];
  if (!databaseUrl) fail('DATABASE_URL (or --database-url) is needed: the nodes share one PostgreSQL — the embedded database cannot be shared by two processes');
  if (!redisUrl) fail('REDIS_URL (or --redis-url) is needed: the nodes\' brokers share subscriptions and sessions through it');
  const ranges = (a: number, b: number) => a < b + nodes && b < a + nodes;
  if (ranges(httpBase, mqttBase)) fail('--http-base and --mqtt-base give overlapping port ranges');

  const adminToken = process.env['AMR_ADMIN_TOKEN'] || undefined;
  const internalSecret = process.env['AMR_INTERNAL_SECRET'] || undefined;
  let stopping = false;
  let started: ClusterNode[] | undefined; // set once every node is ready
  const label = (node: ClusterNode) => `[${node.id}]`;
  process.stdout.write(`cluster: starting ${nodes} node(s) on ${databaseUrl.replace(/\/\/[^@/]*@/, '//…@')} and ${redisUrl.replace(/\/\/[^@/]*@/, '//…@')}\n`);
  const cluster = await startCluster({
    nodes,
    databaseUrl,
    redisUrl,
    httpBase,
    mqttBase,
    ...(values.host ? { host: values.host } : {}),
    ...(adminToken ? { adminToken } : {}),
    ...(internalSecret ? { internalSecret } : {}),
    onOutput: (node, line) => process.stdout.write(`${label(node)} ${line}\n`),
    onExit: (node, { code, signal }, expected) => {
      const how = signal ?? `code ${code}`;
      if (expected || stopping) process.stdout.write(`cluster: ${node.id} stopped (${how})\n`);
      else process.stderr.write(`cluster: ${node.id} exited unexpectedly (${how}); the other nodes keep running\n`);
      if (started?.every((n) => !n.running)) {
        process.stdout.write('cluster: every node has exited\n');
        process.exit(stopping ? 0 : 1);
      }
    },
  }).catch((error: Error) => fail(error.message, 1));
  started = cluster.nodes;

  const lines = ['cluster: ready', ...cluster.nodes.map((n) => `  ${n.id}  pid ${n.pid}  HTTP ${n.apiUrl}/api/v1   MQTT ${n.mqttUrl}`)];
  lines.push(`  buttons: --mqtt ${cluster.nodes.map((n) => n.mqttUrl).join(',')}`);
  if (!adminToken) lines.push(`  admin token (generated; set AMR_ADMIN_TOKEN to keep one): ${cluster.adminToken}`);
  if (!internalSecret) lines.push(`  internal secret (generated; set AMR_INTERNAL_SECRET to keep one): ${cluster.internalSecret}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopping = true;
      process.stdout.write(`cluster: ${signal}: passing it on to the nodes\n`);
      for (const node of cluster.nodes) node.signal(signal);
      if (cluster.nodes.every((n) => !n.running)) process.exit(0);
    });
  }
}

void main();
