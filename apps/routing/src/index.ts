export { RoutingModule } from './routing.module.js';
export { IngestModule } from './ingest/ingest.module.js';
