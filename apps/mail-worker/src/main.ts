import type { ConfigType } from '@nestjs/config';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { appConfig, ConfigError, createNestApp, createRootLogger, mailConfig, queueConfig, serveMetrics, validateConfig } from '@accounts/config';
import { TemplateError } from '@accounts/mail/delivery';
import { assertRedisReachable, RedisUnavailableError } from '@accounts/redis';
import { MAIL_WORKER_CONFIG, MailWorkerModule } from './mail-worker.module';
import { MailMetrics } from './mail.metrics';

/**
 * Creates the mail worker, starts consuming the queue and listens on WORKER_PORT for health
 * checks and metrics. Rejects with a ConfigError, RedisUnavailableError or TemplateError when it
 * cannot start.
 */
export async function createMailWorker(): Promise<NestFastifyApplication> {
  await preflight();
  const adapter = new FastifyAdapter({
    // Its HTTP port only answers probes and scrapes: no request lines. What is logged while one is
    // answered (a failed health check) goes through the request's logger (see loggingModuleFor).
    loggerInstance: createRootLogger('mail-worker', appConfig().logLevel),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
  });
  const app = await createNestApp<NestFastifyApplication>(MailWorkerModule, adapter);
  serveMetrics(app.getHttpAdapter().getInstance(), app.get(MailMetrics).registry);
  await app.listen(app.get<ConfigType<typeof mailConfig>>(mailConfig.KEY).port, '0.0.0.0');
  return app;
}

/**
 * Validates the configuration and reaches Redis before Nest builds anything: the worker's own
 * connections retry forever, so a wrong REDIS_URL would never fail the start.
 */
async function preflight(): Promise<void> {
  validateConfig(MAIL_WORKER_CONFIG);
  await assertRedisReachable(queueConfig().redisUrl);
}

async function bootstrap(): Promise<void> {
  try {
    await createMailWorker();
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof RedisUnavailableError || error instanceof TemplateError;
    process.stderr.write(`mail-worker: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(1);
  }
}

if (require.main === module) void bootstrap();
