import { ConsoleLogger, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { appConfig, ConfigError, mailConfig, nestLogLevels, queueConfig } from '@accounts/config';
import { MAIL_WORKER_CONFIG, MailWorkerModule } from './mail-worker.module';
import { assertRedisReachable, RedisUnavailableError } from './redis.probe';

/**
 * Creates the mail worker, starts consuming the queue and listens on WORKER_PORT for health
 * checks. Rejects with a ConfigError or RedisUnavailableError when it cannot start.
 */
export async function createMailWorker(): Promise<NestFastifyApplication> {
  await preflight();
  let app: NestFastifyApplication;
  try {
    // Logs wait in a buffer until LOG_LEVEL is known, and a failed start prints none of them.
    app = await NestFactory.create<NestFastifyApplication>(MailWorkerModule, new FastifyAdapter(), {
      abortOnError: false,
      bufferLogs: true,
      autoFlushLogs: false,
    });
  } catch (error) {
    // Drops the buffer, which holds Nest's own multi-line report of this error.
    Logger.overrideLogger(false);
    Logger.flush();
    throw error;
  }
  const { logLevel } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  app.useLogger(new ConsoleLogger({ prefix: 'MailWorker', logLevels: nestLogLevels(logLevel) }));
  app.flushLogs();
  app.enableShutdownHooks();
  await app.listen(app.get<ConfigType<typeof mailConfig>>(mailConfig.KEY).port, '0.0.0.0');
  return app;
}

/**
 * Validates the configuration and reaches Redis before Nest builds anything. Inside Nest a failing
 * config factory does not stop the providers that depend on it (they get null), so the queue would
 * already be connecting; and the worker's own connections retry forever, so a wrong REDIS_URL
 * would never fail the start.
 */
async function preflight(): Promise<void> {
  // Silenced: Nest loads the same namespaces again and prints their warnings once.
  Logger.overrideLogger(false);
  for (const load of MAIL_WORKER_CONFIG) load();
  await assertRedisReachable(queueConfig().redisUrl);
}

async function bootstrap(): Promise<void> {
  try {
    await createMailWorker();
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof RedisUnavailableError;
    process.stderr.write(`mail-worker: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(1);
  }
}

if (require.main === module) void bootstrap();
