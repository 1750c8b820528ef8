import { Injectable, type OnModuleInit } from '@nestjs/common';
import { OpsListener } from '../ops/ops.listener';
import { ApiMetrics } from './api.metrics';

export const METRICS_PATH = '/metrics';

/**
 * Prometheus scrape endpoint on the operators' listener: no auth, and not on the public port, where
 * the outbox backlog could hint that an address has just been registered or asked for a reset.
 */
@Injectable()
export class MetricsEndpoint implements OnModuleInit {
  constructor(
    private readonly ops: OpsListener,
    private readonly metrics: ApiMetrics,
  ) {}

  onModuleInit(): void {
    this.ops.server.get(METRICS_PATH, async (_request, reply) => {
      const body = await this.metrics.registry.metrics();
      return reply.header('Cache-Control', 'no-store').type(this.metrics.registry.contentType).send(body);
    });
  }
}
