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
