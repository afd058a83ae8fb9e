import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, DeviceLink, Metrics } from '@amr/runtime';
import { AdminOnly, Public } from '../auth/auth.guard.js';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly metrics: Metrics,
  ) {}

  /** Liveness and readiness: 200 when the database answers and the link to the broker is up, else 503. */
  @Public()
  @Get('health')
  async health(@Res({ passthrough: true }) res: Response) {
    const database = await this.db.query('SELECT 1').then(() => 'up' as const, () => 'down' as const);
    const broker = this.link.connected ? ('up' as const) : ('down' as const);
    const ready = database === 'up' && broker === 'up';
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'degraded', database, broker, uptimeS: Math.round(process.uptime()) };
  }

  /** Counters (refusals, rejections, presses, latencies) in Prometheus text format. */
  @AdminOnly()
  @Get('metrics')
  async prometheus(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
