import { getQueueToken } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { MailQueueModule } from '@accounts/mail/outbox';
import { REDIS_HEALTH_CLIENT, RedisHealthIndicator } from '@accounts/redis';
import { HealthController } from './health.controller';

/** /health/live and /health/ready for orchestrators and docker compose. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), MailQueueModule],
  controllers: [HealthController],
  providers: [
    // The mail queue's own connection, the one the outbox relay publishes through.
    { provide: REDIS_HEALTH_CLIENT, inject: [getQueueToken(MAIL_QUEUE)], useFactory: (queue: Queue) => () => queue.client },
    RedisHealthIndicator,
  ],
})
export class HealthModule {}
