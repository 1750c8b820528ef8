import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/core';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { createApiApp } from '../../apps/api/src/api.app';
import { OpsListener } from '../../apps/api/src/ops/ops.listener';
import { createMailWorker } from '../../apps/mail-worker/src/main';
import { ApiClient } from './api-client';
import { SmtpSink, type ReceivedMail } from './smtp-sink';

/** The whole system in this process: API on a free port, one mail worker, an SMTP sink. */
export interface Stack {
  api: ApiClient;
  apiApp: NestFastifyApplication;
  /** The API's operators' listener (metrics, docs, dashboard), on a free loopback port. */
  opsUrl: string;
  worker: INestApplication | undefined;
  sink: SmtpSink;
  prefix: string;
  /** Runs SQL against the API's database. */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** Starts the mail worker, with `env` on top of the stack's (a worker in another NODE_ENV, say). */
  startWorker(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  /** Start without the mail worker (a test may start it later). */
  withoutWorker?: boolean;
  /** The API's port (default: a free one); for tests whose APP_URL must be the API's real address. */
  port?: number;
}

/**
 * Boots a stack with its own queue prefix, so a test file's jobs never reach another's worker.
 * Config is read when the apps are created, so `env` applies to this stack only.
 */
export async function startStack({ env = {}, withoutWorker = false, port = 0 }: StackOptions = {}): Promise<Stack> {
  const sink = await SmtpSink.start();
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const saved = { ...process.env };
  Object.assign(process.env, { QUEUE_PREFIX: prefix, SMTP_URL: sink.url, PORT: '0', WORKER_PORT: '0', ...env });
  const redisUrl = process.env.REDIS_URL!;
  const apiApp = await createApiApp();
  await apiApp.listen({ port, host: '127.0.0.1' });
  const orm = apiApp.get(MikroORM);

  const stack: Stack = {
    api: new ApiClient(await apiApp.getUrl()),
    apiApp,
    opsUrl: apiApp.get(OpsListener).url,
    worker: undefined,
    sink,
    prefix,
    sql: (query, params = []) => orm.em.fork().getConnection().execute(query, params),
    async startWorker(workerEnv = {}) {
      const previous = { ...process.env };
      Object.assign(process.env, { QUEUE_PREFIX: prefix, SMTP_URL: sink.url, WORKER_PORT: '0', ...env, ...workerEnv });
      stack.worker = await createMailWorker();
      process.env = previous;
    },
    async close() {
      await apiApp.close();
      await stack.worker?.close();
      await sink.stop();
      await obliterate(redisUrl, prefix);
    },
  };
  process.env = saved;
  if (!withoutWorker) await stack.startWorker();
  return stack;
}

async function obliterate(redisUrl: string, prefix: string): Promise<void> {
  const queue = new Queue(MAIL_QUEUE, { connection: redisOptions(redisUrl, 'worker'), prefix });
  try {
    await queue.obliterate({ force: true });
  } catch {
    // Redis may be one a test stopped on purpose; nothing to clean there.
  } finally {
    await queue.close();
  }
}

const LINK = /https?:\/\/[^\s"'<>]+\/(confirm-email|reset-password)\?token=([A-Za-z0-9_%-]+)/;

/** The link a message carries (from its text part), and the token in it. */
export function linkIn(mail: ReceivedMail): { url: URL; token: string } {
  const match = LINK.exec(mail.text);
  if (!match) throw new Error(`No link in mail "${mail.subject}": ${mail.text}`);
  const url = new URL(match[0]);
  return { url, token: url.searchParams.get('token')! };
}

export function to(address: string) {
  return (mail: ReceivedMail) => mail.to.toLowerCase() === address.toLowerCase();
}
