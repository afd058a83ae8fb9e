import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, DeviceLink, Metrics, NodeRegistry, RedisProbe } from '@amr/runtime';
import { AdminOnly, Public } from '../auth/auth.guard.js';
import { NotAudited } from '../audit/audit.interceptor.js';

@ApiTags('operations')
@NotAudited()
@Controller()
export class HealthController {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly metrics: Metrics,
    private readonly nodes: NodeRegistry,
    private readonly redis: RedisProbe,
  ) {}

  /**
   * Liveness and readiness: 200 when the database answers and the link to the broker is up, else
   * 503. Names this node and process, the deployment's other live processes, and the state of
   * Redis: without it a node still stores and answers the presses of the devices connected to it,
   * so a Redis outage is reported (`degraded`) without taking the node out of service.
   */
  @Public()
  @Get('health')
  async health(@Res({ passthrough: true }) res: Response) {
    const [database, redis, peers] = await Promise.all([
      this.db.query('SELECT 1').then(() => 'up' as const, () => 'down' as const),
      this.redis.state(),
      this.nodes.peers().catch(() => []),
    ]);
    const broker = this.link.connected ? ('up' as const) : ('down' as const);
    const ready = database === 'up' && broker === 'up';
    res.status(ready ? 200 : 503);
    return {
      status: ready && redis !== 'down' ? 'ok' : 'degraded',
      node: this.nodes.nodeId,
      process: this.nodes.process,
      roles: this.nodes.roles,
      peers,
      database,
      broker,
      redis,
      uptimeS: Math.round(process.uptime()),
    };
  }

  /** Counters (refusals, rejections, presses, latencies) in Prometheus text format. */
  @AdminOnly()
  @Get('metrics')
  async prometheus(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
