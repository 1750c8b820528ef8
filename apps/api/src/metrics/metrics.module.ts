import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { ApiMetrics } from './api-metrics';
import { MetricsController } from './metrics.controller';

/** The API's Prometheus metrics; api.app.ts feeds it every answered request. */
@Module({
  imports: [AuthModule],
  controllers: [MetricsController],
  providers: [ApiMetrics],
  exports: [ApiMetrics],
})
export class MetricsModule {}
