import { MikroOrmModule } from '@mikro-orm/nestjs';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { queueConfig } from '@accounts/config';
import { redisOptions } from '@accounts/redis';
import { MAIL_QUEUE, PayloadSealer } from '../contract';
import { MailQueueScrubber } from './mail-queue.scrubber';
import { OutboxEvent } from './outbox-event.entity';
import { OutboxRelay } from './outbox.relay';
import { OutboxService } from './outbox.service';

/** The producer side of the mail queue: the outbox, its relay and the queue it feeds. */
@Module({
  imports: [
    MikroOrmModule.forFeature([OutboxEvent]),
    BullModule.forRootAsync({
      inject: [queueConfig.KEY],
      useFactory: (queue: ConfigType<typeof queueConfig>) => ({
        connection: redisOptions(queue.redisUrl, 'producer'),
        prefix: queue.prefix,
      }),
    }),
    BullModule.registerQueueAsync({
      name: MAIL_QUEUE,
      inject: [queueConfig.KEY],
      useFactory: (queue: ConfigType<typeof queueConfig>) => ({
        defaultJobOptions: {
          attempts: queue.attempts,
          backoff: { type: 'exponential', delay: 1_000 },
          // Sent mail leaves Redis at once (its payload held a sealed token); failures stay for
          // inspection, for MAIL_FAILED_RETENTION (BullMQ applies the age when a job fails; the relay's
          // cleanup removes them when no job fails after them).
          removeOnComplete: true,
          removeOnFail: { age: Math.ceil(queue.failedJobRetentionMs / 1_000) },
        },
      }),
    }),
  ],
  providers: [PayloadSealer, OutboxService, OutboxRelay, MailQueueScrubber],
  exports: [OutboxService, OutboxRelay, MailQueueScrubber, BullModule],
})
export class MailQueueModule {}
