import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, NODE_ROLES } from './tokens.js';

/** A process of the deployment: its node, what it runs, since when, and when it last said so. */
export interface NodeProcess {
  readonly process: string;
  readonly nodeId: string;
  readonly roles: readonly string[];
  readonly startedAt: string;
  readonly seenAt: string;
}

/** How often a process says it is alive, and after how long without it is no longer listed. */
const BEAT_MS = 5_000;
const GONE_AFTER_S = 15;

/**
 * The processes of one deployment, through the shared database: each writes a heartbeat row, so
 * `/health` on any node names its peers. A process that stops removes its row; one that dies is
 * no longer listed after GONE_AFTER_S.
 */
@Injectable()
export class NodeRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Nodes');
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();
  readonly process: string;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(NODE_ROLES) readonly roles: readonly string[],
  ) {
    this.process = `${config.nodeId}/${roles.join('+')}`;
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), BEAT_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.db.query(`DELETE FROM platform_nodes WHERE process = $1`, [this.process]).catch(() => undefined);
  }

  /** The other live processes of the deployment. */
  async peers(): Promise<NodeProcess[]> {
    const rows: { process: string; node_id: string; roles: string[]; started_at: Date; seen_at: Date }[] = await this.db.query(
      `SELECT process, node_id, roles, started_at, seen_at FROM platform_nodes
        WHERE process <> $1 AND seen_at > now() - make_interval(secs => $2) ORDER BY process`,
      [this.process, GONE_AFTER_S],
    );
    return rows.map((r) => ({
      process: r.process,
      nodeId: r.node_id,
      roles: r.roles,
      startedAt: new Date(r.started_at).toISOString(),
      seenAt: new Date(r.seen_at).toISOString(),
    }));
  }

  private async beat(): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO platform_nodes (process, node_id, roles, started_at, seen_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (process) DO UPDATE SET seen_at = now(), started_at = EXCLUDED.started_at, roles = EXCLUDED.roles`,
        [this.process, this.config.nodeId, this.roles, this.startedAt],
      );
    } catch (err) {
      this.logger.debug(`heartbeat not written: ${String(err)}`);
    }
  }
}
