/**
 * One CIC integration per CIC the platform knows (CONTRACT §4: `GET /api/v1/cics`, then
 * `POST /api/v1/integrations` `{cicId, name}` → `{id, token}`, both admin), so that a simulated CIC
 * reading the admin's stream can confirm each alarm's delivery as the alarm's own CIC does: only an
 * integration of the CIC an alarm is routed to may (the admin token may not).
 */
import { ApiClient } from './api.js';
import type { CicClients } from './cic-delivery.js';

type ClientOptions = ConstructorParameters<typeof ApiClient>[2];

interface Integration {
  id: string;
  client: ApiClient;
}

export class CicIntegrations {
  private constructor(
    private readonly admin: ApiClient,
    private readonly byCic: ReadonlyMap<string, Integration>,
  ) {}

  /** Creates one integration per CIC, named `name`; each one's client talks to the admin's node with its token. */
  static async create(admin: ApiClient, name: string, clientOptions: ClientOptions = {}): Promise<CicIntegrations> {
    const cics = (await admin.get<Array<{ id?: unknown }>>('/api/v1/cics')).body ?? [];
    const byCic = new Map<string, Integration>();
    for (const { id: cicId } of cics) {
      if (typeof cicId !== 'string') continue;
      const created = await admin.post<{ id?: unknown; token?: unknown }>('/api/v1/integrations', { cicId, name });
      const { id, token } = created.body ?? {};
      if (typeof id !== 'string' || typeof token !== 'string') throw new Error(`POST /api/v1/integrations for ${cicId}: the answer has no id and token`);
      byCic.set(cicId, { id, client: new ApiClient(admin.baseUrl, token, clientOptions) });
    }
    return new CicIntegrations(admin, byCic);
  }

  get count(): number {
    return this.byCic.size;
  }

  /** The client of the alarm's CIC's integration (undefined: a CIC that did not exist at the start). */
  readonly clientFor: CicClients = (cicId) => (cicId === undefined ? undefined : this.byCic.get(cicId)?.client);

  /**
   * Revokes every integration (`POST /api/v1/integrations/{id}/revoke`): a run leaves no live token
   * behind. Best effort: at the end of a failed run the platform may be gone, and with it the tokens' use.
   */
  async revoke(): Promise<void> {
    for (const { id } of this.byCic.values()) {
      await this.admin.post(`/api/v1/integrations/${encodeURIComponent(id)}/revoke`, {}).catch(() => undefined);
    }
  }
}
