import { LockMode, MikroORM, type EventSubscriber, type TransactionEventArgs } from '@mikro-orm/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE } from './mail.events';
import { OutboxEvent } from './outbox-event.entity';
import { OutboxService } from './outbox.service';

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1_000;
const RETRY_INTERVAL_MS = 2_000;
const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * Moves committed outbox rows onto the mail queue. It runs right after each commit that recorded
 * an event, and polls as a safety net for events whose publish failed (Redis down) or that another
 * replica left behind. `FOR UPDATE SKIP LOCKED` lets several API replicas relay at once without
 * publishing a row twice, and the job id (= event id) makes BullMQ drop a repeated add.
 */
@Injectable()
export class OutboxRelay implements EventSubscriber, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private rerun = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly outbox: OutboxService,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
  ) {
    orm.em.getEventManager().registerSubscriber(this);
    // Without a listener an 'error' event would crash the process; the relay reports failures itself.
    queue.on('error', () => undefined);
  }

  onApplicationBootstrap(): void {
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  afterTransactionCommit(args: TransactionEventArgs): void {
    if (this.outbox.takePending(args.em)) this.kick();
  }

  /** Publishes now (or right after the pass in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.rerun) {
        this.rerun = false;
        this.kick();
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
      if (this.failing) this.logger.log('Mail queue reachable again; outbox relay resumed');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(`Outbox relay cannot publish (${(error as Error).message}); events stay in the outbox and will be retried`);
      }
      this.failing = true;
    }
    return total;
  }

  private publishBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const events = await em.find(
        OutboxEvent,
        { publishedAt: null },
        { orderBy: { createdAt: 'asc' }, limit: BATCH_SIZE, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      if (events.length === 0) return 0;
      await withTimeout(
        this.queue.addBulk(events.map((event) => ({ name: event.name, data: event.payload, opts: { jobId: event.id } }))),
        PUBLISH_TIMEOUT_MS,
      );
      const now = new Date();
      for (const event of events) event.publishedAt = now;
      return events.length;
    });
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
