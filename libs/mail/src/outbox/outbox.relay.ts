import { MikroORM, type EventArgs, type EventSubscriber, type QueryResult, type TransactionEventArgs } from '@mikro-orm/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Queue } from 'bullmq';
import { queueConfig, withinDeadline } from '@accounts/config';
import { MAIL_QUEUE, type MailEventName } from '../contract';
import { OutboxEvent } from './outbox-event.entity';

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1_000;
/**
 * A commit's event waits this long for others, so that under load one pass (one transaction, one
 * queue write) publishes several: a pass per event cost the API more than the request that made it.
 */
const GATHER_MS = 5;
const RETRY_INTERVAL_MS = 2_000;
const PUBLISH_TIMEOUT_MS = 5_000;
/**
 * How long Redis remembers that an event was published, after its job is long gone (completed jobs
 * are removed at once). Covers a publish whose "published" mark was lost with its transaction
 * (PostgreSQL failing between the add and the commit): the next pass adds the event again, and
 * BullMQ drops the add instead of sending the mail a second time. The key holds the job id only.
 */
const PUBLISH_DEDUPLICATION_TTL_MS = 24 * 60 * 60 * 1_000;
/** Published rows are deleted in batches this big, at most this many batches per pass. */
const PURGE_BATCH_SIZE = 1_000;
const PURGE_MAX_BATCHES = 100;
const PURGE_INTERVAL_MS = 10 * 60 * 1_000;
const PURGE_MIN_INTERVAL_MS = 1_000;

/**
 * Moves committed outbox rows onto the mail queue. It runs right after each commit that recorded
 * an event, and polls as a safety net for events whose publish failed (Redis down) or that another
 * replica left behind. `FOR UPDATE SKIP LOCKED` lets several API replicas relay at once without
 * publishing a row twice, and the job id (= event id, also the deduplication id) makes BullMQ drop a
 * repeated add. Published rows are deleted once older than OUTBOX_RETENTION, failed jobs once
 * failed longer than MAIL_FAILED_RETENTION.
 */
@Injectable()
export class OutboxRelay implements EventSubscriber, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private gathering: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private rerun = false;
  private stopped = false;
  private failing = false;
  private purgeTimer: NodeJS.Timeout | undefined;
  private purging: Promise<unknown> | undefined;
  private readonly purgeIntervalMs: number;
  /** Transactions that inserted an event and have not committed yet. */
  private readonly carrying = new WeakSet<object>();

  constructor(
    private readonly orm: MikroORM,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
    @Inject(queueConfig.KEY) private readonly config: ConfigType<typeof queueConfig>,
  ) {
    orm.em.getEventManager().registerSubscriber(this);
    // Without a listener an 'error' event would crash the process; the relay reports failures itself.
    queue.on('error', () => undefined);
    this.purgeIntervalMs = Math.max(PURGE_MIN_INTERVAL_MS, Math.min(PURGE_INTERVAL_MS, config.outboxRetentionMs, config.failedJobRetentionMs));
  }

  onApplicationBootstrap(): void {
    this.kick();
    this.schedulePurge(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.purgeTimer);
    // Events gathered for the next pass go out now rather than wait for another process's poll.
    const gathered = this.gathering !== undefined;
    clearTimeout(this.gathering);
    await Promise.all([this.running, this.purging]);
    if (gathered) await this.drain();
  }

  /**
   * An event row was inserted: remember the transaction it rides in. Keyed by the transaction, not
   * by an entity manager, so an event recorded on any manager that joins it is published on commit.
   */
  afterCreate(args: EventArgs<unknown>): void {
    if (!(args.entity instanceof OutboxEvent)) return;
    const transaction: unknown = args.em.getTransactionContext();
    if (transaction) this.carrying.add(transaction);
    else this.kick();
  }

  afterTransactionCommit(args: TransactionEventArgs): void {
    if (args.transaction && this.carrying.delete(args.transaction)) this.kick();
  }

  /** Publishes within GATHER_MS (or right after the pass in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (this.gathering) return;
    clearTimeout(this.timer);
    this.gathering = setTimeout(() => {
      this.gathering = undefined;
      this.pass();
    }, GATHER_MS);
  }

  private pass(): void {
    if (this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.rerun) {
        this.rerun = false;
        this.pass();
      } else {
        this.timer = setTimeout(() => this.kick(), this.failing ? RETRY_INTERVAL_MS : POLL_INTERVAL_MS);
        this.timer.unref();
      }
    });
  }

  /** Publishes until the backlog is empty; returns how many events went out. */
  async drain(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const published = await this.publishBatch();
        total += published;
        if (published < BATCH_SIZE || this.stopped) break;
      }
      if (this.failing) this.logger.log('Outbox relay resumed; events are being published again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(`Outbox relay cannot publish (${describe(error)}); events stay in the outbox and will be retried`);
      }
      this.failing = true;
    }
    return total;
  }

  /**
   * Deletes published rows older than OUTBOX_RETENTION, in batches, oldest first; unpublished rows
   * are never touched. Replicas purging at once skip each other's rows. Returns how many went.
   */
  async purgePublished(): Promise<number> {
    const olderThan = `${this.config.outboxRetentionMs} milliseconds`;
    let total = 0;
    for (let batch = 0; batch < PURGE_MAX_BATCHES && !this.stopped; batch++) {
      const result = await this.orm.em.fork().getConnection().execute<QueryResult>(
        `delete from outbox where id in (
           select id from outbox
            where published_at is not null and published_at < now() - ?::interval
            order by published_at
            limit ? for update skip locked)`,
        [olderThan, PURGE_BATCH_SIZE],
        'run',
      );
      total += result.affectedRows;
      if (result.affectedRows < PURGE_BATCH_SIZE) break;
    }
    return total;
  }

  /**
   * Removes failed jobs that failed longer than MAIL_FAILED_RETENTION ago. Their `removeOnFail`
   * age is applied only when another job fails, which may never happen; this bounds it. Returns
   * how many went.
   */
  async purgeFailedJobs(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < PURGE_MAX_BATCHES && !this.stopped; batch++) {
      const removed = await withinDeadline(this.queue.clean(this.config.failedJobRetentionMs, PURGE_BATCH_SIZE, 'failed'), PUBLISH_TIMEOUT_MS, () => {
        throw new Error(`queue did not answer within ${PUBLISH_TIMEOUT_MS} ms`);
      });
      total += removed.length;
      if (removed.length < PURGE_BATCH_SIZE) break;
    }
    return total;
  }

  private schedulePurge(delayMs: number): void {
    if (this.stopped) return;
    this.purgeTimer = setTimeout(() => {
      this.purging = this.purgePublished()
        .then(async (deleted) => {
          if (deleted > 0) this.logger.log(`Deleted ${deleted} published outbox events past their retention`);
          const removed = await this.purgeFailedJobs();
          if (removed > 0) this.logger.log(`Removed ${removed} failed mail jobs past their retention`);
        })
        .catch((error: unknown) => this.logger.warn(`Outbox cleanup failed (${describe(error)}); it runs again later`))
        .finally(() => {
          this.purging = undefined;
          this.schedulePurge(this.purgeIntervalMs);
        });
    }, delayMs);
    this.purgeTimer.unref();
  }

  /**
   * One pass: up to BATCH_SIZE unpublished rows, oldest first, are marked published and locked by
   * ONE statement, added to the queue, and the mark commits; when the queue refuses them the
   * transaction rolls back and they stay unpublished. Replicas skip each other's locked rows.
   */
  private publishBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const events: Array<{ id: string; name: MailEventName; payload: object }> = await em.getConnection().execute(
        `with picked as (
           select id from outbox where published_at is null order by created_at limit ? for update skip locked
         ), marked as (
           update outbox o set published_at = now() from picked where o.id = picked.id
           returning o.id, o.name, o.payload, o.created_at
         )
         select id, name, payload from marked order by created_at`,
        [BATCH_SIZE],
        'all',
        em.getTransactionContext(),
      );
      if (events.length === 0) return 0;
      await withinDeadline(
        this.queue.addBulk(
          events.map((event) => ({
            name: event.name,
            data: event.payload,
            opts: { jobId: event.id, deduplication: { id: event.id, ttl: PUBLISH_DEDUPLICATION_TTL_MS } },
          })),
        ),
        PUBLISH_TIMEOUT_MS,
        () => {
          throw new Error(`queue did not answer within ${PUBLISH_TIMEOUT_MS} ms`);
        },
      );
      return events.length;
    });
  }
}

/** A driver error's message starts with its SQL; the class and code are enough for a log line. */
function describe(error: unknown): string {
  const { name, code, message } = (error ?? {}) as { name?: string; code?: unknown; message?: string };
  if (name && /Exception$/.test(name)) return `${name}${code ? ` ${String(code)}` : ''}`;
  return message ?? String(error);
}
