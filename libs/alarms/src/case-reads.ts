import type { EntityManager } from 'typeorm';
import { CaseRead } from '@amr/persistence';

export type CaseReadVia = 'api' | 'sse' | 'webhook';

/** Records that an integration was given a case's data (responder context is sensitive). */
export async function recordCaseRead(
  db: EntityManager,
  read: { caseId: string | null; integrationId: string; alarmId: string | null; via: CaseReadVia },
): Promise<void> {
  if (!read.caseId) return;
  await db.insert(CaseRead, { caseId: read.caseId, integrationId: read.integrationId, alarmId: read.alarmId, via: read.via });
}
