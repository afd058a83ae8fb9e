import 'reflect-metadata';
import { loadConfig } from '@amr/config';
import { compileWasmForMemory } from '@amr/persistence';
import { runMain } from '@amr/runtime';
import { startPlatform } from './platform.js';

/** `npm start`: the whole platform on one machine. */
runMain(async () => {
  const config = loadConfig();
  // The embedded database's WebAssembly with the baseline compiler only: ~80 MB less resident.
  if (!config.database.url) compileWasmForMemory();
  const platform = await startPlatform(config);
  const { http, mqtt, mqtts } = platform.ports;
  const data = config.database.url ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.database.dataDir}`;
  const lines = [
    'AMR 2.0 platform is running',
    `  MQTT   mqtt://localhost:${mqtt}${mqtts ? `   mqtts://localhost:${mqtts}` : ''}`,
    `  HTTP   http://localhost:${http}/api/v1   (OpenAPI: http://localhost:${http}/api/docs)`,
    `  Data   ${data}`,
  ];
  if (config.adminTokenGenerated) {
    lines.push(`  Admin token, generated for this run (set AMR_ADMIN_TOKEN to keep one): ${config.adminToken}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
});
