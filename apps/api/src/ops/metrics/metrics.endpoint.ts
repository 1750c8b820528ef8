import { Injectable, type OnModuleInit } from '@nestjs/common';
import { serveMetrics } from '@accounts/config';
import { OpsListener } from '../ops.listener';
import { ApiMetrics } from './api.metrics';

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
    serveMetrics(this.ops.server, this.metrics.registry);
  }
}
