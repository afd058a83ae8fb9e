/**
 * Closing open alarms, as a CIC does (CONTRACT §4: `GET /api/v1/alarms?state=open`, then
 * `POST /api/v1/alarms/{id}/close` `{outcome}`, allowed from every open stage). An alarm left open
 * is escalated for as long as it stays open — notified again, handed over to backup CICs — which
 * is load beneath every later bench figure; the bench closes what earlier runs left and, without
 * an operator, what it opened itself.
 */
import { performance } from 'node:perf_hooks';
import { ApiError, type ApiClient } from './api.js';
import { mapBounded } from './provision.js';

/** What a clean-up did. */
export interface CleanupFigure {
  closed: number;
  /** Closes answered with an error (e.g. 409: closed meanwhile). */
  refused: number;
  firstError?: string;
  ms: number;
}

/** An alarm of the list, as far as the clean-up reads it. */
export interface OpenAlarm {
  id: string;
  deviceId?: string;
}

export interface CleanupOptions {
  /** The close's outcome (it stays in the alarm's timeline). */
  outcome: string;
  /** Closes in flight at most (default CLOSE_CONCURRENCY). */
  concurrency?: number;
  /** Which open alarms are ours to close (default: all). */
  owned?: (alarm: OpenAlarm) => boolean;
  signal?: AbortSignal;
}

/** The most the list endpoint gives at once (CONTRACT §4 alarms, `limit`). */
const PAGE = 1000;

/** Each close is a transaction of its own: enough in flight to keep the database busy, not a socket per alarm. */
export const CLOSE_CONCURRENCY = 16;

/**
 * Closes the open alarms `owned` accepts, a page of the list at a time (newest first), until a
 * page has none left to try; each alarm is tried once. A failed list request throws.
 */
export async function closeOpenAlarms(api: ApiClient, options: CleanupOptions): Promise<CleanupFigure> {
  const t0 = performance.now();
  const figure: CleanupFigure = { closed: 0, refused: 0, ms: 0 };
  const tried = new Set<string>();
  while (!options.signal?.aborted) {
    const page = (await api.get<OpenAlarm[]>(`/api/v1/alarms?state=open&limit=${PAGE}`)).body ?? [];
    const todo = page.filter((a) => typeof a?.id === 'string' && !tried.has(a.id) && (options.owned?.(a) ?? true));
    if (todo.length === 0) break;
    for (const { id } of todo) tried.add(id);
    await mapBounded(todo, options.concurrency ?? CLOSE_CONCURRENCY, async ({ id }) => {
      if (options.signal?.aborted) return;
      try {
        await api.post(`/api/v1/alarms/${encodeURIComponent(id)}/close`, { outcome: options.outcome });
        figure.closed += 1;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        figure.refused += 1;
        figure.firstError ??= error.message;
      }
    });
  }
  figure.ms = Math.round(performance.now() - t0);
  return figure;
}
