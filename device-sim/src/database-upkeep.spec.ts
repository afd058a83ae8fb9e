import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { keepDatabase, upkeepText } from './database-upkeep.js';

const settings = { autovacuum: 'off', synchronousCommit: 'on', fsync: 'on', sharedBuffers: '128MB' };

describe('database upkeep before a bench', () => {
  it('says what it did on a server without autovacuum', () => {
    expect(upkeepText({ settings, vacuumedMs: 1234 })).toBe(
      'autovacuum off: vacuumed and analyzed before the load (1.23 s); synchronous_commit on, fsync on, shared_buffers 128MB',
    );
  });

  it('does nothing on a server that keeps itself', () => {
    expect(upkeepText({ settings: { ...settings, autovacuum: 'on' }, vacuumedMs: null })).toBe('autovacuum on, synchronous_commit on, fsync on, shared_buffers 128MB');
  });

  const url = process.env.TEST_DATABASE_URL;
  (url ? it : it.skip)('reads the settings of a real server and refreshes its statistics when autovacuum is off', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE IF NOT EXISTS bench_upkeep_probe (n int)');
      await client.query('TRUNCATE bench_upkeep_probe');
      await client.query('INSERT INTO bench_upkeep_probe SELECT generate_series(1, 500)');
      const kept = await keepDatabase(url!);
      const [{ autovacuum }] = (await client.query('SHOW autovacuum')).rows as { autovacuum: string }[];
      expect(kept.settings.autovacuum).toBe(autovacuum);
      expect(kept.settings.fsync).toMatch(/^(on|off)$/);
      if (autovacuum === 'off') {
        expect(kept.vacuumedMs).toBeGreaterThan(0);
        // ANALYZE ran: the planner knows the table's rows
        const [{ reltuples }] = (await client.query(`SELECT reltuples FROM pg_class WHERE relname = 'bench_upkeep_probe'`)).rows as { reltuples: number }[];
        expect(Number(reltuples)).toBe(500);
      } else {
        expect(kept.vacuumedMs).toBeNull();
      }
    } finally {
      await client.query('DROP TABLE IF EXISTS bench_upkeep_probe').catch(() => undefined);
      await client.end();
    }
  });
});
