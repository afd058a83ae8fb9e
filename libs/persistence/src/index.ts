// @amr/persistence — entities, the migration, and opening PostgreSQL or the embedded PGlite.
export * from './entities/index.js';
export { ENTITIES, MIGRATIONS } from './schema.js';
export { Initial1795400000000 } from './migrations/1795400000000-Initial.js';
export { BELGIAN_CICS } from './belgian-cics.js';
export { BELGIAN_CIC_AREAS, DEFAULT_BACKUP_CICS, DEFAULT_AREA_SOURCE, applyDefaultCoverage } from './belgian-cic-areas.js';
export { asReal, bigintAsNumber } from './columns.js';
export {
  openDatabase,
  closeDatabase,
  resetDatabase,
  reservedConnections,
  DatabaseUnavailableError,
  type ConnectionSource,
  type DatabaseOptions,
  type TakenConnection,
} from './database.js';
export {
  createPgliteDriver,
  PglitePool,
  PgliteClient,
  type PgliteDriverModule,
  type PgliteDriverOptions,
  type PgQueryResult,
  type PgQueryConfig,
} from './pglite/pglite-pg-driver.js';
export { GroupCommit, inTransaction, preparedQuery, stepTimer, type Sql, type SqlStatement, type StepTimer, type TransactionOptions } from './group-commit.js';
export { OutboxSender, type OutboxWork } from './outbox-sender.js';
export { returned } from './returned.js';
export { compileWasmForMemory } from './pglite/settings.js';
