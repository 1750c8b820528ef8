import { MikroORM } from '@mikro-orm/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Res } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { MAIL_QUEUE } from '@accounts/mail';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Liveness says the process runs; readiness says it can serve. PostgreSQL down means not ready;
 * Redis down only delays email (the outbox holds it), so it is reported but keeps us in service.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly orm: MikroORM,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [database, redis] = await Promise.all([
      probe(() => this.orm.em.getConnection().execute('select 1')),
      probe(async () => ((await this.queue.client) as unknown as Redis).ping()),
    ]);
    const ready = database === 'up';
    reply.status(ready ? 200 : 503).header('Cache-Control', 'no-store');
    return { status: ready ? 'ok' : 'unavailable', checks: { database, redis } };
  }
}

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
