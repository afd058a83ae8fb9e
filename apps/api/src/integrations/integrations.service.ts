import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';
import { Cic, Integration, WebhookDelivery } from '@amr/persistence';
import { hashToken, newToken } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import { newWebhookSecret, webhookUrlProblem, type Scope } from '@amr/alarms';
import type { CreateIntegrationDto, DeliveryView, IntegrationView, ListDeliveriesQuery, UpdateIntegrationDto } from './integrations.dto.js';

/** CIC integrations: their bearer tokens and webhooks (CONTRACT §4, docs/webhooks.md). */
@Injectable()
export class IntegrationsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
  ) {}

  /**
   * Issues a CIC-scoped token, and with a webhook URL a signing secret; both are shown once. The
   * token is stored as its SHA-256; the secret as issued, since the platform signs with it.
   */
  async create(dto: CreateIntegrationDto): Promise<IntegrationView & { token: string; webhookSecret?: string }> {
    this.checkWebhookUrl(dto.webhookUrl);
    const cic = await this.db.getRepository(Cic).findOne({ where: { id: dto.cicId } });
    if (!cic) throw new UnprocessableEntityException(`Unknown CIC "${dto.cicId}": GET /api/v1/cics lists the known ones`);
    const token = newToken('amri');
    const webhookSecret = dto.webhookUrl ? newWebhookSecret() : undefined;
    const saved = await this.db.getRepository(Integration).save({
      cicId: cic.id,
      name: dto.name,
      tokenHash: hashToken(token),
      webhookUrl: dto.webhookUrl ?? null,
      webhookSecret: webhookSecret ?? null,
    });
    return { ...view(saved), token, ...(webhookSecret ? { webhookSecret } : {}) };
  }

  async list(): Promise<IntegrationView[]> {
    const all = await this.db.getRepository(Integration).find({ order: { createdAt: 'ASC' } });
    return all.map(view);
  }

  /**
   * Sets or removes the webhook URL. The first URL brings a signing secret (in the answer, once);
   * removing it abandons the deliveries still pending.
   */
  async update(id: string, dto: UpdateIntegrationDto): Promise<IntegrationView & { webhookSecret?: string }> {
    this.checkWebhookUrl(dto.webhookUrl);
    return this.db.transaction(async (tx) => {
      const integration = await this.findActive(tx, id);
      const webhookSecret = dto.webhookUrl && !integration.webhookSecret ? newWebhookSecret() : undefined;
      integration.webhookUrl = dto.webhookUrl;
      if (webhookSecret) integration.webhookSecret = webhookSecret;
      await tx.update(Integration, { id }, { webhookUrl: integration.webhookUrl, webhookSecret: integration.webhookSecret });
      if (!dto.webhookUrl) await abandonPending(tx, id, 'webhook turned off before delivery');
      return { ...view(integration), ...(webhookSecret ? { webhookSecret } : {}) };
    });
  }

  /** A new signing secret; the old one is not used from the next request on. */
  async rotateWebhookSecret(id: string): Promise<{ webhookSecret: string }> {
    const integration = await this.findActive(this.db.manager, id);
    const webhookSecret = newWebhookSecret();
    await this.db.getRepository(Integration).update({ id: integration.id }, { webhookSecret });
    return { webhookSecret };
  }

  /** The token stops working at once and no more events are sent; pending deliveries are abandoned. */
  async revoke(id: string): Promise<IntegrationView> {
    return this.db.transaction(async (tx) => {
      const integration = await tx.findOne(Integration, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!integration) throw new NotFoundException(`No integration ${id}: GET /api/v1/integrations lists them`);
      if (!integration.revokedAt) {
        integration.revokedAt = new Date();
        await tx.update(Integration, { id }, { revokedAt: integration.revokedAt });
        await abandonPending(tx, id, 'integration revoked before delivery');
      }
      return view(integration);
    });
  }

  /** Recent webhook deliveries, newest first: for the administrator, or the integration itself. */
  async deliveries(scope: Scope, id: string, query: ListDeliveriesQuery): Promise<DeliveryView[]> {
    if (scope.kind === 'integration' && scope.integrationId !== id) {
      throw new NotFoundException(`No integration ${id} is visible to you: ask for your own deliveries`);
    }
    const exists = await this.db.getRepository(Integration).exists({ where: { id } });
    if (!exists) throw new NotFoundException(`No integration ${id}: GET /api/v1/integrations lists them`);
    const where: FindOptionsWhere<WebhookDelivery> = { integrationId: id };
    if (query.state) where.state = query.state;
    const rows = await this.db.getRepository(WebhookDelivery).find({
      where,
      select: { id: true, eventType: true, state: true, attempts: true, lastError: true, createdAt: true, deliveredAt: true },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: query.limit ?? 100,
    });
    return rows.map(({ id, eventType, state, attempts, lastError, createdAt, deliveredAt }) => ({
      id, eventType, state, attempts, lastError, createdAt, deliveredAt,
    }));
  }

  /** A receiver on a loopback, private or metadata address is refused (docs/security.md). */
  private checkWebhookUrl(url: string | null | undefined): void {
    const problem = url ? webhookUrlProblem(url, this.config.webhooks.allowPrivate) : undefined;
    if (problem) throw new BadRequestException(problem);
  }

  private async findActive(db: EntityManager, id: string): Promise<Integration> {
    const integration = await db.findOne(Integration, { where: { id } });
    if (!integration) throw new NotFoundException(`No integration ${id}: GET /api/v1/integrations lists them`);
    if (integration.revokedAt) throw new ConflictException(`Integration ${id} was revoked at ${integration.revokedAt.toISOString()}; create a new one`);
    return integration;
  }
}

function view(i: Integration): IntegrationView {
  return { id: i.id, cicId: i.cicId, name: i.name, webhookUrl: i.webhookUrl ?? null, createdAt: i.createdAt, revokedAt: i.revokedAt ?? null };
}

async function abandonPending(tx: EntityManager, integrationId: string, reason: string): Promise<void> {
  await tx.update(WebhookDelivery, { integrationId, state: 'pending' }, { state: 'failed', lastError: reason });
}
