import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ConfigError, httpConfig, queueConfig, redactUrl } from '@accounts/config';
import { redisUnreachableReason } from '@accounts/redis';
import { ApiStartupError, createApiApp } from './api.app';

/** Stops with one line instead of a stack trace: the operator needs the what, not the where. */
function fail(line: string): never {
  process.stderr.write(`api: ${line}\n`);
  process.exit(1);
}

async function bootstrap(): Promise<void> {
  const app = await createApiApp();
  const logger = new Logger('Bootstrap');
  const queue = app.get<ConfigType<typeof queueConfig>>(queueConfig.KEY);
  const redisDown = await redisUnreachableReason(queue.redisUrl);
  if (redisDown !== undefined) {
    // Not fatal: events wait in the outbox and the relay publishes them once Redis is back.
    logger.warn(`Cannot reach Redis at ${redactUrl(queue.redisUrl)} (${redisDown}); email waits in the outbox until it is back. Try: docker compose up -d redis`);
  }
  const { port } = app.get<ConfigType<typeof httpConfig>>(httpConfig.KEY);
  try {
    await app.listen({ port, host: '0.0.0.0' });
  } catch (error) {
    fail(`cannot listen (PORT=${port}): ${(error as Error).message}`);
  }
  logger.log(`Listening on http://localhost:${port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ApiStartupError) fail(error.message);
  fail((error as Error)?.stack ?? String(error));
});
