import type { MikroORM } from '@mikro-orm/core';
import type { Queue } from 'bullmq';
import { OutboxEvent } from './outbox-event.entity';
import { OutboxRelay } from './outbox.relay';

/**
 * The relay with its database and queue faked at their edges: the ORM's fork/transaction, the
 * statement that marks a batch published (rolled back with its transaction) and BullMQ's addBulk.
 */
function relayWith(rows: OutboxEvent[], addBulk: Queue['addBulk'], clean: Queue['clean'] = jest.fn()) {
  let marked: OutboxEvent[] = [];
  const em: object = {
    getEventManager: () => ({ registerSubscriber: () => undefined }),
    fork: () => em,
    getTransactionContext: () => undefined,
    getConnection: () => ({
      execute: async (_sql: string, [limit]: [number]) => {
        const picked = rows.filter((row) => row.publishedAt === null).slice(0, limit);
        for (const row of picked) row.publishedAt = new Date();
        marked.push(...picked);
        return picked.map((row) => ({ id: row.id, name: row.name, payload: row.payload }));
      },
    }),
    transactional: async <T>(work: (tx: object) => Promise<T>) => {
      marked = [];
      try {
        return await work(em);
      } catch (error) {
        for (const row of marked) row.publishedAt = null;
        throw error;
      }
    },
  };
  const queue = { on: () => undefined, addBulk, clean } as unknown as Queue;
  const config = { outboxRetentionMs: 60_000, failedJobRetentionMs: 60_000 } as ConstructorParameters<typeof OutboxRelay>[2];
  return new OutboxRelay({ em } as unknown as MikroORM, queue, config);
}

function event(name: OutboxEvent['name']): OutboxEvent {
  const row = new OutboxEvent();
  row.name = name;
  row.payload = { v: 1 };
  return row;
}

describe('OutboxRelay', () => {
  it('publishes right after the commit of the transaction that inserted an event, whichever entity manager recorded it', () => {
    const relay = relayWith([], jest.fn());
    const kick = jest.spyOn(relay, 'kick').mockImplementation(() => undefined);
    const carrying = {};
    const other = {};
    relay.afterCreate({ entity: event('password.changed'), em: { getTransactionContext: () => carrying } } as never);
    relay.afterTransactionCommit({ transaction: other, em: {} } as never);
    expect(kick).not.toHaveBeenCalled();
    relay.afterTransactionCommit({ transaction: carrying, em: {} } as never);
    expect(kick).toHaveBeenCalledTimes(1);
    // Once per transaction.
    relay.afterTransactionCommit({ transaction: carrying, em: {} } as never);
    expect(kick).toHaveBeenCalledTimes(1);
  });

  it('gathers the events of commits that land within a few milliseconds into one pass, and publishes gathered ones at shutdown', async () => {
    jest.useFakeTimers();
    try {
      const rows = [event('user.registered'), event('password.reset-requested'), event('password.changed')];
      const addBulk = jest.fn().mockResolvedValue([]);
      const relay = relayWith(rows, addBulk);
      for (let i = 0; i < 3; i++) relay.kick();
      expect(addBulk).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(5);
      expect(addBulk).toHaveBeenCalledTimes(1);
      expect(addBulk.mock.calls[0][0]).toHaveLength(3);

      const late = event('mfa.enabled');
      rows.push(late);
      relay.kick();
      await relay.onApplicationShutdown();
      expect(late.publishedAt).toBeInstanceOf(Date);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ignores rows that are not events', () => {
    const relay = relayWith([], jest.fn());
    const kick = jest.spyOn(relay, 'kick').mockImplementation(() => undefined);
    const transaction = {};
    relay.afterCreate({ entity: { id: 'a user' }, em: { getTransactionContext: () => transaction } } as never);
    relay.afterTransactionCommit({ transaction, em: {} } as never);
    expect(kick).not.toHaveBeenCalled();
  });

  it('adds each event as a job named after it, with the event id as job and deduplication id, then marks it published', async () => {
    const rows = [event('user.registered'), event('password.reset-requested')];
    const addBulk = jest.fn().mockResolvedValue([]);
    const relay = relayWith(rows, addBulk);
    await expect(relay.drain()).resolves.toBe(2);
    expect(addBulk).toHaveBeenCalledWith(
      rows.map((row) => expect.objectContaining({ name: row.name, data: row.payload, opts: expect.objectContaining({ jobId: row.id, deduplication: expect.objectContaining({ id: row.id }) }) })),
    );
    expect(rows.every((row) => row.publishedAt instanceof Date)).toBe(true);
    await expect(relay.drain()).resolves.toBe(0);
  });

  it('leaves events unpublished while the queue refuses them, and publishes them once it accepts again', async () => {
    const rows = [event('password.changed')];
    const addBulk = jest.fn().mockRejectedValueOnce(new Error('Redis is away')).mockResolvedValue([]);
    const relay = relayWith(rows, addBulk);
    await expect(relay.drain()).resolves.toBe(0);
    expect(rows[0].publishedAt).toBeNull();
    await expect(relay.drain()).resolves.toBe(1);
    expect(rows[0].publishedAt).toBeInstanceOf(Date);
  });

  it('removes failed jobs past MAIL_FAILED_RETENTION in batches until a batch comes back short', async () => {
    const clean = jest.fn().mockResolvedValueOnce(Array(1_000).fill('id')).mockResolvedValueOnce(['id', 'id']);
    const relay = relayWith([], jest.fn(), clean);
    await expect(relay.purgeFailedJobs()).resolves.toBe(1_002);
    expect(clean).toHaveBeenCalledTimes(2);
    expect(clean).toHaveBeenCalledWith(60_000, 1_000, 'failed');
  });
});
