import { randomUUID } from 'node:crypto';
import { OutboxRelay } from '@accounts/mail/outbox';
import { PrivateRedis } from '../support/private-redis';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { waitUntil } from '../support/polling';

async function insertEvent(stack: Stack, { createdAgo, publishedAgo }: { createdAgo: string; publishedAgo: string | null }): Promise<string> {
  const id = randomUUID();
  await stack.sql(
    `insert into outbox (id, name, payload, created_at, published_at)
     values (?, 'password.changed', ?::jsonb, now() - ?::interval, ${publishedAgo === null ? 'null' : 'now() - ?::interval'})`,
    [id, JSON.stringify({ v: 1, userId: randomUUID(), email: uniqueEmail('retention'), name: null, via: 'change' }), createdAgo, ...(publishedAgo === null ? [] : [publishedAgo])],
  );
  return id;
}

async function existing(stack: Stack, ids: string[]): Promise<string[]> {
  const rows = await stack.sql<{ id: string }>(`select id from outbox where id in (${ids.map(() => '?').join(', ')})`, ids);
  return rows.map((row) => row.id).sort();
}

describe('outbox retention: published events are deleted after OUTBOX_RETENTION', () => {
  describe('one cleanup pass', () => {
    let redis: PrivateRedis;
    let stack: Stack;
    beforeAll(async () => {
      redis = await PrivateRedis.start();
      stack = await startStack({ env: { REDIS_URL: redis.url, OUTBOX_RETENTION: '1h' } });
      // With Redis away the relay cannot publish, so an unpublished row stays unpublished.
      await redis.stop();
    });
    afterAll(async () => {
      await redis?.start();
      // The API's queue connection must be back before it can close cleanly.
      await waitUntil(async () => (await stack.api.request('GET', '/health/ready')).body.checks?.redis === 'up', 15_000, 'redis up');
      await stack?.close();
      await redis?.stop();
    });

    it('deletes published rows past the retention, in batches, and never an unpublished or recent one', async () => {
      const expired = await insertEvent(stack, { createdAgo: '3 hours', publishedAgo: '2 hours' });
      const recent = await insertEvent(stack, { createdAgo: '20 minutes', publishedAgo: '10 minutes' });
      const unpublished = await insertEvent(stack, { createdAgo: '2 days', publishedAgo: null });
      // More than two batches' worth of expired rows.
      await stack.sql(
        `insert into outbox (id, name, payload, created_at, published_at)
         select gen_random_uuid(), 'password.changed', '{"v":1}'::jsonb, now() - interval '3 days', now() - interval '2 days'
           from generate_series(1, 2500)`,
      );

      const deleted = await stack.apiApp.get(OutboxRelay).purgePublished();
      expect(deleted).toBeGreaterThanOrEqual(2501);
      expect(await existing(stack, [expired, recent, unpublished])).toEqual([recent, unpublished].sort());
      const [{ n }] = await stack.sql<{ n: number }>(`select count(*)::int as n from outbox where published_at < now() - interval '1 hour'`);
      expect(n).toBe(0);

      await stack.sql('delete from outbox where id in (?, ?)', [recent, unpublished]);
    });
  });

  describe('periodically, by itself', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { OUTBOX_RETENTION: '2s' } });
    });
    afterAll(() => stack?.close());

    it('removes an event some time after its mail went out', async () => {
      const email = uniqueEmail('retention');
      expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
      await stack.sink.waitFor(to(email), 15_000);
      const rows = () => stack.sql<{ id: string }>(`select id from outbox where payload->>'email' = ?`, [email]);
      expect(await rows()).toHaveLength(1);
      await waitUntil(async () => (await rows()).length === 0, 15_000, 'the cleaner to delete the published event');
    });
  });
});
