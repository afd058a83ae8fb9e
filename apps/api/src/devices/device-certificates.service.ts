import { readFileSync } from 'node:fs';
import { BadRequestException, ConflictException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { checkCsr, issueDeviceCertificate, loadDeviceCa, type DeviceCa } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, DeviceLink } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import { findDevice, recordDeviceEvent } from './device-records.js';
import { Device } from '@amr/persistence';

/** A certificate as the API returns it at issue. */
export interface CertificateIssued {
  deviceId: string;
  /** PEM: the device presents it, with its key, in the TLS handshake. */
  certificate: string;
  serial: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  notAfter: string;
}

/**
 * Device certificates (CONTRACT §1; docs/security.md "Device certificates"): signs a device's CSR
 * with the device CA and binds the certificate to the device, so that the broker admits it and no
 * certificate issued to the device before; revokes it. Independent of the device's secret: issuing
 * or revoking changes no secret, rotating the secret changes no certificate.
 */
@Injectable()
export class DeviceCertificatesService {
  private readonly ca: DeviceCa | undefined;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly link: DeviceLink,
  ) {
    // Checked at start-up (libs/config): the files are a CA certificate and its key.
    const { deviceCa } = config;
    this.ca = deviceCa?.keyFile ? loadDeviceCa(readFileSync(deviceCa.certFile), readFileSync(deviceCa.keyFile)) : undefined;
  }

  async issue(scope: Scope, id: string, csrPem: string): Promise<CertificateIssued> {
    const ca = this.signer();
    const checked = checkCsr(csrPem);
    if (!checked.ok) throw new BadRequestException(checked.error);
    if (checked.csr.commonName !== id) {
      throw new BadRequestException(`csr subject CN is not the device id: it must be exactly "${id}"`);
    }
    const { issued, replaced } = await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      if (!device.active) throw new ConflictException(`Device ${id} is deactivated: a certificate would not let it in; provision a new one`);
      const issued = issueDeviceCertificate(ca, id, checked.csr.publicKey, this.config.deviceCa!.validityDays);
      await tx.update(Device, { id }, { certFingerprint: issued.fingerprint, certSerial: issued.serial, certNotAfter: issued.notAfter });
      await recordDeviceEvent(tx, id, scope, 'certificate-issued', {
        serial: issued.serial,
        fingerprint: issued.fingerprint,
        notAfter: issued.notAfter.toISOString(),
        key: checked.csr.keyDescription,
        ...(device.certSerial ? { replaces: device.certSerial } : {}),
      });
      return { issued, replaced: device.certFingerprint !== null };
    });
    // The certificate replaced no longer admits the device: a connection made with it is cut.
    if (replaced) await this.link.kick(id);
    return { deviceId: id, certificate: issued.certificate, serial: issued.serial, fingerprint: issued.fingerprint, notAfter: issued.notAfter.toISOString() };
  }

  /** No certificate admits the device any more (its secret still does); a live connection is cut. */
  async revoke(scope: Scope, id: string): Promise<{ deviceId: string; revoked: string | null }> {
    const serial = await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      if (!device.certFingerprint) return null;
      await tx.update(Device, { id }, { certFingerprint: null, certSerial: null, certNotAfter: null });
      await recordDeviceEvent(tx, id, scope, 'certificate-revoked', { serial: device.certSerial });
      return device.certSerial ?? '';
    });
    if (serial !== null) await this.link.kick(id);
    return { deviceId: id, revoked: serial };
  }

  private signer(): DeviceCa {
    if (this.ca) return this.ca;
    const missing = this.config.deviceCa ? 'TLS_DEVICE_CA_KEY (the device CA\'s private key)' : 'TLS_DEVICE_CA and TLS_DEVICE_CA_KEY (the device CA\'s certificate and key)';
    throw new ServiceUnavailableException(`Device certificates are not enabled on this platform: set ${missing} (docs/security.md, "Device certificates")`);
  }
}
