import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { JobsOptions, Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { createApiApp } from '../../../apps/api/src/api.app';
import { MailProcessor } from '../../../apps/mail-worker/src/mail.processor';
import { createMailWorker } from '../../../apps/mail-worker/src/main';
import { ApiClient } from '../../support/api-client';
import type { Stack } from '../../support/stack';

/** Config is read when an app is created: build it with `env` applied, then put the old one back. */
async function withEnv<T>(env: Record<string, string>, build: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await build();
  } finally {
    process.env = saved;
  }
}

function stackEnv(stack: Stack, env: Record<string, string>): Record<string, string> {
  return { QUEUE_PREFIX: stack.prefix, SMTP_URL: stack.sink.url, PORT: '0', WORKER_PORT: '0', ...env };
}

/** Another API replica of `stack`: same database, Redis and queue prefix. */
export async function startApiReplica(stack: Stack, env: Record<string, string> = {}): Promise<{ app: NestFastifyApplication; api: ApiClient }> {
  const app = await withEnv(stackEnv(stack, env), async () => {
    const created = await createApiApp();
    await created.listen({ port: 0, host: '127.0.0.1' });
    return created;
  });
  return { app, api: new ApiClient(await app.getUrl()) };
}

/** Another mail worker replica of `stack`, on the same queue and SMTP sink. */
export function startWorkerReplica(stack: Stack, env: Record<string, string> = {}): Promise<INestApplication> {
  return withEnv(stackEnv(stack, env), () => createMailWorker());
}

/**
 * Records every job an API's relay adds to the mail queue (the real add still happens), so a test
 * can tell how often each event was published.
 */
export function recordPublishes(app: INestApplication, into: string[]): void {
  const queue = app.get<Queue>(getQueueToken(MAIL_QUEUE));
  const addBulk = queue.addBulk.bind(queue);
  queue.addBulk = (jobs: Array<{ name: string; data: unknown; opts?: JobsOptions }>) => {
    for (const job of jobs) into.push(String(job.opts?.jobId));
    return addBulk(jobs);
  };
}

/** Counts the jobs a worker replica completes. */
export function countCompleted(worker: INestApplication): { count: number } {
  const counter = { count: 0 };
  worker.get(MailProcessor).worker.on('completed', () => {
    counter.count++;
  });
  return counter;
}
