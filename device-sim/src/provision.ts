/**
 * Provisioning through the real HTTP API (CONTRACT §4): protection cases, then devices for them —
 * one request per device, or up to 1,000 per request through the batch endpoint.
 */
import { isDeviceId } from '@amr/protocol';
import { ApiError, type ApiClient } from './api.js';
import { deviceKeyAndCsr } from './pki.js';

export interface ProvisionedDevice {
  caseId: string;
  deviceId: string;
  /** Shown once by the platform. */
  secret: string;
  /** With --mtls: the button's client certificate and key (PEM), issued at provisioning. */
  certificate?: DeviceCertificate;
}

export interface DeviceCertificate {
  key: string;
  cert: string;
}

/**
 * CONTRACT §1 certificates: the button makes its key and a CSR with CN = its id, and the platform
 * signs it (`POST /api/v1/devices/{id}/certificate {csr}` → `{certificate}`). The key never leaves it.
 */
export async function requestCertificate(api: ApiClient, deviceId: string): Promise<DeviceCertificate> {
  const { key, csr } = deviceKeyAndCsr(deviceId);
  const issued = await api.post<{ certificate?: unknown }>(`/api/v1/devices/${deviceId}/certificate`, { csr });
  const cert = issued.body?.certificate;
  if (typeof cert !== 'string' || !cert.includes('BEGIN CERTIFICATE')) {
    throw new ApiError(`POST /api/v1/devices/${deviceId}/certificate: the answer has no certificate`, issued.status, issued.body);
  }
  return { key, cert };
}

export interface ProvisionOptions {
  cicId: string;
  /** Register the device's number (E.164, CONTRACT §6) for the SMS path. */
  msisdn?: string;
  reference?: string;
  riskLevel?: 'low' | 'medium' | 'high' | 'critical';
}

/** `POST /api/v1/cases` → `{id}`, then `POST /api/v1/devices {caseId[, msisdn]}` → `{deviceId, secret}`. */
export async function provisionDevice(api: ApiClient, options: ProvisionOptions): Promise<ProvisionedDevice> {
  return provisionForCase(api, await createCase(api, options), options.msisdn);
}

/** `POST /api/v1/cases` → the new case's id. */
export async function createCase(api: ApiClient, options: ProvisionOptions): Promise<string> {
  const created = await api.post<{ id?: unknown }>('/api/v1/cases', {
    homeCicId: options.cicId,
    reference: options.reference ?? 'device-sim',
    riskLevel: options.riskLevel ?? 'high',
  });
  const caseId = created.body?.id;
  if (typeof caseId !== 'string' && typeof caseId !== 'number') {
    throw new ApiError(`POST /api/v1/cases: the answer has no case id: ${JSON.stringify(created.body)}`, created.status, created.body);
  }
  return String(caseId);
}

/** `POST /api/v1/devices {caseId}` → a device granted to the case. */
export async function provisionForCase(api: ApiClient, caseId: string, msisdn?: string): Promise<ProvisionedDevice> {
  const device = await api.post<{ deviceId?: unknown; secret?: unknown }>('/api/v1/devices', { caseId, ...(msisdn !== undefined ? { msisdn } : {}) });
  const { deviceId, secret } = device.body ?? {};
  if (!isDeviceId(deviceId) || typeof secret !== 'string' || secret === '') {
    // never echo the body here: it may hold the secret
    throw new ApiError('POST /api/v1/devices: the answer has no valid deviceId and secret', device.status);
  }
  return { caseId, deviceId, secret };
}

/**
 * Provisions `count` devices, each with a case of its own, with at most `concurrency` in flight;
 * with `certificates`, each gets its client certificate. Results keep their index order.
 */
export function provisionFleet(
  api: ApiClient,
  count: number,
  options: ProvisionOptions & { concurrency?: number; onProgress?: (done: number) => void; signal?: AbortSignal; msisdns?: readonly string[]; certificates?: boolean },
): Promise<ProvisionedDevice[]> {
  return times(count, { ...options, concurrency: options.concurrency ?? 8 }, async (i) => {
    const device = await provisionDevice(api, { ...options, reference: options.reference ?? `device-sim-${i}`, ...(options.msisdns ? { msisdn: options.msisdns[i]! } : {}) });
    return options.certificates ? { ...device, certificate: await requestCertificate(api, device.deviceId) } : device;
  });
}

/** `task(i)` for every i below `count`, at most `concurrency` at once, each completion reported; results in order. */
function times<T>(
  count: number,
  options: { concurrency: number; onProgress?: ((done: number) => void) | undefined; signal?: AbortSignal | undefined },
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  let done = 0;
  return mapBounded(Array.from({ length: count }, (_, i) => i), options.concurrency, async (i) => {
    if (options.signal?.aborted) throw new Error('interrupted while provisioning');
    const out = await task(i);
    options.onProgress?.(++done);
    return out;
  });
}

/** CONTRACT §4: at most this many devices per `POST /api/v1/devices/batch`. */
export const BATCH_LIMIT = 1000;

/**
 * `POST /api/v1/devices/batch {caseIds}` → one device per entry, in one transaction. Null when
 * the platform has no such route (HTTP 404 from the router, not from a missing case).
 */
export async function provisionBatch(api: ApiClient, caseIds: readonly string[]): Promise<ProvisionedDevice[] | null> {
  let call;
  try {
    call = await api.post<unknown>('/api/v1/devices/batch', { caseIds });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && /Cannot POST/i.test(error.message)) return null;
    throw error;
  }
  const list = call.body;
  if (!Array.isArray(list) || list.length !== caseIds.length) {
    throw new ApiError(`POST /api/v1/devices/batch: expected ${caseIds.length} devices, got ${Array.isArray(list) ? list.length : typeof list}`, call.status);
  }
  return list.map((entry: { deviceId?: unknown; secret?: unknown; caseId?: unknown }, i) => {
    const { deviceId, secret } = entry ?? {};
    if (!isDeviceId(deviceId) || typeof secret !== 'string' || secret === '') {
      throw new ApiError(`POST /api/v1/devices/batch: entry ${i} has no valid deviceId and secret`, call.status);
    }
    return { caseId: typeof entry.caseId === 'string' ? entry.caseId : caseIds[i]!, deviceId, secret };
  });
}

/**
 * One device per entry of `caseIds` (an id may repeat: several devices for one case): through
 * the batch endpoint, 1,000 per request, or one request per device when the platform has no
 * batch endpoint. Results in the order of `caseIds`.
 */
export async function provisionForCases(
  api: ApiClient,
  caseIds: readonly string[],
  options: { batchConcurrency?: number; singleConcurrency?: number; onProgress?: (done: number) => void; signal?: AbortSignal } = {},
): Promise<{ devices: ProvisionedDevice[]; batch: boolean }> {
  const chunks: string[][] = [];
  for (let i = 0; i < caseIds.length; i += BATCH_LIMIT) chunks.push(caseIds.slice(i, i + BATCH_LIMIT));
  let done = 0;
  const progress = (n: number): void => {
    done += n;
    options.onProgress?.(done);
  };
  const first = chunks.length ? await provisionBatch(api, chunks[0]!) : [];
  if (first === null) {
    const devices = await times(caseIds.length, { ...options, concurrency: options.singleConcurrency ?? 16 }, (i) => provisionForCase(api, caseIds[i]!));
    return { devices, batch: false };
  }
  progress(first.length);
  const rest = await mapBounded(chunks.slice(1), options.batchConcurrency ?? 2, async (chunk) => {
    if (options.signal?.aborted) throw new Error('interrupted while provisioning');
    const devices = await provisionBatch(api, chunk);
    if (devices === null) throw new Error('POST /api/v1/devices/batch disappeared while provisioning');
    progress(devices.length);
    return devices;
  });
  return { devices: [first, ...rest].flat(), batch: true };
}

/** Creates `count` cases with at most `concurrency` in flight; their ids in order. */
export function createCases(
  api: ApiClient,
  count: number,
  options: ProvisionOptions & { concurrency?: number; onProgress?: (done: number) => void; signal?: AbortSignal },
): Promise<string[]> {
  return times(count, { ...options, concurrency: options.concurrency ?? 16 }, () => createCase(api, options));
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
