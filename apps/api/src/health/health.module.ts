import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MailQueueModule } from '@accounts/mail';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis.health';

/** /health/live and /health/ready for orchestrators and docker compose. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), MailQueueModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
