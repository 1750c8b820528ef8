import { waitUntil } from './support/polling';
import { PrivateRedis } from './support/private-redis';
import { startStack, to, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

describe('outbox: email survives a Redis outage', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await stack.close();
    await redis.stop();
  });

  it('answers registrations while Redis is down and delivers their email once it is back', async () => {
    await redis.stop();
    const emails = [uniqueEmail('outage'), uniqueEmail('outage'), uniqueEmail('outage')];
    for (const email of emails) {
      const started = Date.now();
      const answer = await stack.api.post('/auth/register', { email, password: strongPassword() });
      expect(answer.status).toBe(201);
      // Well under the relay's publish timeout: the request never waits on the queue.
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    const waiting = await stack.sql<{ n: number }>(
      `select count(*)::int as n from outbox where published_at is null and payload->>'email' in (?, ?, ?)`,
      emails,
    );
    expect(waiting[0].n).toBe(3);
    expect(stack.sink.messages.filter((m) => emails.includes(m.to))).toHaveLength(0);

    await redis.start();
    for (const email of emails) await stack.sink.waitFor(to(email), 20_000);
    const published = await stack.sql<{ n: number }>(
      `select count(*)::int as n from outbox where published_at is not null and payload->>'email' in (?, ?, ?)`,
      emails,
    );
    expect(published[0].n).toBe(3);
  });

  it('reports Redis in readiness without taking the API out of service', async () => {
    await redis.stop();
    const ready = await stack.api.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'up', redis: 'down' });
    await redis.start();
    await waitUntil(async () => (await stack.api.request('GET', '/health/ready')).body.checks.redis === 'up');
  });
});
