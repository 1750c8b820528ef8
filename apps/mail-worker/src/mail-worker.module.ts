import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { MailerModule } from '@nestjs-modules/mailer';
import { appConfig, configModuleFor, mailConfig, payloadConfig, queueConfig } from '@accounts/config';
import { MAIL_QUEUE, PayloadSealer, redisOptions } from '@accounts/mail';
import { HealthController } from './health.controller';
import { MailComposer } from './mail.composer';
import { MailProcessor } from './mail.processor';
import { MailRenderer } from './mail.renderer';
import { MailSender } from './mail.sender';

/** Everything the worker reads from the environment: no DATABASE_URL, no JWT_SECRET. */
export const MAIL_WORKER_CONFIG = [appConfig, queueConfig, mailConfig, payloadConfig];

/** The mail worker: Redis and SMTP, no database. */
@Module({
  imports: [
    configModuleFor(MAIL_WORKER_CONFIG),
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
        transport: mail.smtpUrl ? { url: mail.smtpUrl, pool: true } : { streamTransport: true, buffer: true },
      }),
    }),
  ],
  controllers: [HealthController],
  providers: [PayloadSealer, MailRenderer, MailComposer, MailSender, MailProcessor],
})
export class MailWorkerModule {}
