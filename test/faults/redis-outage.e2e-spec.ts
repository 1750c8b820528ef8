import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { PrivateRedis } from '../support/private-redis';
import { SmtpSink } from '../support/smtp-sink';
import { startStack, type Stack } from '../support/stack';
import { DurableRedis } from './support/durable-redis';
import { waitUntil } from '../support/polling';
import { burst, eventIdsFor, printReport, waitForDeliveries } from './support/mail-audit';

/** Rate limits on (they must fall back to memory), generous enough for a burst from one IP. */
const LIMITS = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AUTH_PER_IP: '10000/15m' };

describe('fault 1: Redis unreachable during a burst of registrations and resets', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({ env: { REDIS_URL: redis.url, ...LIMITS } });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('answers every request as usual while Redis is away and delivers every email once it is back', async () => {
    const before = await burst(stack.api, 6, { label: 'redis-before' });
    // This Redis keeps nothing on disk: wait until its queue is empty, so the outage tests
    // unreachability (a Redis that loses its data is the next test's subject).
    await waitForDeliveries(stack.sink, await eventIdsFor(stack.sql, before.registered), 20_000);

    await redis.stop();
    const during = await burst(stack.api, 16, { label: 'redis-down' });
    expect(during.answers).toEqual({ '201 register': 16, '202 forgot': 16 });
    const held = await eventIdsFor(stack.sql, during.registered);
    expect(held).toHaveLength(32);
    const [{ n: unpublished }] = await stack.sql<{ n: number }>(
      `select count(*)::int as n from outbox where published_at is null and id in (${held.map(() => '?').join(', ')})`,
      held,
    );
    expect(unpublished).toBe(32);
    const ready = await stack.api.request('GET', '/health/ready');
    expect({ status: ready.status, checks: ready.body.checks }).toEqual({ status: 200, checks: { database: 'up', redis: 'down' } });

    await redis.start();
    const after = await burst(stack.api, 6, { label: 'redis-back' });
    const all = await eventIdsFor(stack.sql, [...before.registered, ...during.registered, ...after.registered]);
    expect(all).toHaveLength(56);
    const report = await waitForDeliveries(stack.sink, all, 40_000);
    printReport('redis unreachable (stop/start)', report, { slowestRequestMs: during.slowestMs });
    expect(report.duplicates).toBe(0);
  });
});

describe('fault 1b: Redis crashes with jobs queued and comes back from its append-only file', () => {
  const CONCURRENCY = 2;
  let redis: DurableRedis;
  let sink: SmtpSink;
  let stack: Stack;
  let queue: Queue;
  beforeAll(async () => {
    redis = await DurableRedis.start();
    // A slow SMTP server and a small worker, so jobs are queued and in flight when Redis dies; a
    // short lock lets the jobs that were running at the crash be taken over within seconds.
    sink = await SmtpSink.start({ latencyMs: 250 });
    stack = await startStack({
      env: { REDIS_URL: redis.url, SMTP_URL: sink.url, MAIL_CONCURRENCY: String(CONCURRENCY), MAIL_LOCK_DURATION: '2s', ...LIMITS },
    });
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(redis.url, 'producer'), prefix: stack.prefix });
    queue.on('error', () => undefined);
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
    await sink?.stop();
    await redis?.destroy();
  });

  it('loses no queued email; mails in flight at the crash may arrive twice', async () => {
    let crashed = false;
    let queuedAtCrash: Record<string, number> = {};
    const sent = await burst(stack.api, 20, {
      label: 'redis-crash',
      onProgress: async (done) => {
        if (done < 8 || crashed) return;
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
        if (counts.waiting === 0 && done < 20) return;
        crashed = true;
        queuedAtCrash = counts;
        await redis.crash();
      },
    });
    expect(sent.answers).toEqual({ '201 register': 20, '202 forgot': 20 });
    await redis.start();
    const all = await eventIdsFor(stack.sql, sent.registered);
    expect(all).toHaveLength(40);
    const report = await waitForDeliveries(sink, all, 40_000);
    printReport('redis crash with AOF', report, { ...queuedAtCrash });
    expect(queuedAtCrash.waiting).toBeGreaterThan(0);
    // Only jobs running at the crash can be sent again: at most the worker's concurrency.
    expect(report.duplicates).toBeLessThanOrEqual(CONCURRENCY);
    await waitUntil(async () => (await stack.api.request('GET', '/health/ready')).body.checks.redis === 'up', 10_000, 'redis up');
  });
});
