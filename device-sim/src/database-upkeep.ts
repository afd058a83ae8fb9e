import pg from 'pg';

/** The PostgreSQL server a bench ran against, as far as its figures depend on it. */
export interface DatabaseUpkeep {
  /** The server's settings that change the figures. */
  readonly settings: { autovacuum: string; synchronousCommit: string; fsync: string; sharedBuffers: string };
  /** Milliseconds `VACUUM (ANALYZE)` took before the load; null when autovacuum is on (the server keeps itself). */
  readonly vacuumedMs: number | null;
}

/**
 * A server with autovacuum off never removes the dead rows of the platform's updates (every press
 * and heartbeat updates its device) nor refreshes the planner's statistics: run after run, the
 * figures drift with the database's age, not with the platform. A production server runs
 * autovacuum; without it, the bench vacuums and analyzes the database before the load, and says so.
 */
export async function keepDatabase(url: string): Promise<DatabaseUpkeep> {
  const client = new pg.Client({ connectionString: url, application_name: 'amr-bench-upkeep' });
  await client.connect();
  try {
    const show = async (name: string) => String(((await client.query(`SHOW ${name}`)).rows[0] as Record<string, unknown>)[name]);
    const settings = {
      autovacuum: await show('autovacuum'),
      synchronousCommit: await show('synchronous_commit'),
      fsync: await show('fsync'),
      sharedBuffers: await show('shared_buffers'),
    };
    if (settings.autovacuum === 'on') return { settings, vacuumedMs: null };
    const t0 = performance.now();
    await client.query('VACUUM (ANALYZE)');
    return { settings, vacuumedMs: performance.now() - t0 };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line for the report: the server's settings and what the bench did about them. */
export function upkeepText({ settings, vacuumedMs }: DatabaseUpkeep): string {
  const shown = `synchronous_commit ${settings.synchronousCommit}, fsync ${settings.fsync}, shared_buffers ${settings.sharedBuffers}`;
  return vacuumedMs === null
    ? `autovacuum on, ${shown}`
    : `autovacuum off: vacuumed and analyzed before the load (${(vacuumedMs / 1000).toFixed(2)} s); ${shown}`;
}
