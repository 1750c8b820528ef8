import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { OpsModule } from '../ops.module';
import { ApiMetrics } from './api.metrics';
import { MetricsEndpoint } from './metrics.endpoint';

/** The API's Prometheus metrics; api.app.ts feeds it every answered request, the operators' listener serves them. */
@Module({
  imports: [AuthModule, OpsModule],
  providers: [ApiMetrics, MetricsEndpoint],
  exports: [ApiMetrics],
})
export class MetricsModule {}
