/**
 * Provisioning through the real HTTP API (CONTRACT §4): a protection case, then a device for it.
 */
import { isDeviceId } from '@amr/protocol';
import { ApiError, type ApiClient } from './api.js';

export interface ProvisionedDevice {
  caseId: string;
  deviceId: string;
  /** Shown once by the platform. */
  secret: string;
}

export interface ProvisionOptions {
  cicId: string;
  reference?: string;
  riskLevel?: 'low' | 'medium' | 'high' | 'critical';
}

/** `POST /api/v1/cases` → `{id}`, then `POST /api/v1/devices {caseId}` → `{deviceId, secret}`. */
export async function provisionDevice(api: ApiClient, options: ProvisionOptions): Promise<ProvisionedDevice> {
  const created = await api.post<{ id?: unknown }>('/api/v1/cases', {
    homeCicId: options.cicId,
    reference: options.reference ?? 'device-sim',
    riskLevel: options.riskLevel ?? 'high',
  });
  const caseId = created.body?.id;
  if (typeof caseId !== 'string' && typeof caseId !== 'number') {
    throw new ApiError(`POST /api/v1/cases: the answer has no case id: ${JSON.stringify(created.body)}`, created.status, created.body);
  }
  const device = await api.post<{ deviceId?: unknown; secret?: unknown }>('/api/v1/devices', { caseId });
  const { deviceId, secret } = device.body ?? {};
  if (!isDeviceId(deviceId) || typeof secret !== 'string' || secret === '') {
    // never echo the body here: it may hold the secret
    throw new ApiError('POST /api/v1/devices: the answer has no valid deviceId and secret', device.status);
  }
  return { caseId: String(caseId), deviceId, secret };
}

/**
 * Provisions `count` devices with at most `concurrency` in flight (the platform hashes each
 * secret with scrypt: a few dozen ms of its CPU per device). Results keep their index order.
 */
export async function provisionFleet(
  api: ApiClient,
  count: number,
  options: ProvisionOptions & { concurrency?: number; onProgress?: (done: number) => void; signal?: AbortSignal },
): Promise<ProvisionedDevice[]> {
  const out: ProvisionedDevice[] = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count && !options.signal?.aborted) {
      const i = next++;
      out[i] = await provisionDevice(api, { ...options, reference: options.reference ?? `device-sim-${i}` });
      options.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, count) }, worker));
  if (options.signal?.aborted) throw new Error('interrupted while provisioning');
  return out;
}

/** Runs `task` over `items` with at most `concurrency` in flight; results in order. */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}
