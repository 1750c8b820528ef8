import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { MailerModule } from '@nestjs-modules/mailer';
import { TerminusModule } from '@nestjs/terminus';
import { appConfig, configModuleFor, loggingModuleFor, mailConfig, payloadConfig, queueConfig } from '@accounts/config';
import { MAIL_QUEUE, PayloadSealer } from '@accounts/mail/contract';
import { MailComposer, MailRenderer, MailSender, smtpTransportOptions } from '@accounts/mail/delivery';
import { REDIS_HEALTH_CLIENT, RedisHealthIndicator, redisOptions } from '@accounts/redis';
import { HealthController } from './health.controller';
import { JobLogContext } from './job-log.context';
import { MailMetrics } from './mail.metrics';
import { MailProcessor } from './mail.processor';
import { SmtpHealthIndicator } from './smtp.health';

/** Everything the worker reads from the environment: no DATABASE_URL, no JWT_SECRET. */
export const MAIL_WORKER_CONFIG = [appConfig, queueConfig, mailConfig, payloadConfig];

/** The mail worker: Redis and SMTP, no database. */
@Module({
  imports: [
    configModuleFor(MAIL_WORKER_CONFIG),
    // Job lines carry their event (JobLogContext).
    loggingModuleFor('mail-worker'),
    TerminusModule.forRoot({ errorLogStyle: 'json' }),
    BullModule.forRootAsync({
      inject: [queueConfig.KEY],
      useFactory: (queue: ConfigType<typeof queueConfig>) => ({
        connection: redisOptions(queue.redisUrl, 'worker'),
        prefix: queue.prefix,
      }),
    }),
    BullModule.registerQueue({ name: MAIL_QUEUE }),
    MailerModule.forRootAsync({
      inject: [mailConfig.KEY],
      useFactory: (mail: ConfigType<typeof mailConfig>) => ({
        transport: mail.smtpUrl ? smtpTransportOptions({ smtpUrl: mail.smtpUrl, smtpRequireTls: mail.smtpRequireTls }) : { streamTransport: true, buffer: true },
      }),
    }),
  ],
  controllers: [HealthController],
  providers: [
    PayloadSealer,
    {
      provide: MailRenderer,
      inject: [mailConfig.KEY],
      useFactory: (mail: ConfigType<typeof mailConfig>) => new MailRenderer({ overrideDir: mail.templatesDir }),
    },
    MailComposer,
    MailSender,
    MailProcessor,
    MailMetrics,
    JobLogContext,
    // The worker's own connection: a worker without Redis can do nothing.
    { provide: REDIS_HEALTH_CLIENT, inject: [MailProcessor], useFactory: (processor: MailProcessor) => () => processor.worker.client },
    RedisHealthIndicator,
    SmtpHealthIndicator,
  ],
})
export class MailWorkerModule {}
