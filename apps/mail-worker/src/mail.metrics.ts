import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withinDeadline } from '@accounts/config';
import { isMailEventName, MAIL_EVENT_NAMES, MAIL_QUEUE } from '@accounts/mail/contract';

const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;
/** A scrape never waits longer than this on Redis; the queue depth is left out instead. */
const QUEUE_COUNT_TIMEOUT_MS = 1_000;

/**
 * The worker's Prometheus metrics (GET /metrics on WORKER_PORT): jobs by outcome and send latency
 * by event, fed by the processor, and the queue's depth, read from Redis at each scrape (it is the
 * same for every replica).
 */
@Injectable()
export class MailMetrics {
  readonly registry = new Registry();

  private readonly completed = new Counter({
    name: 'mail_jobs_completed_total',
    help: 'Mail jobs sent, by event',
    labelNames: ['event'],
    registers: [this.registry],
  });

  private readonly failed = new Counter({
    name: 'mail_jobs_failed_total',
    help: 'Mail jobs failed for good (attempts used up, or a failure no retry can fix), by event',
    labelNames: ['event'],
    registers: [this.registry],
  });

  private readonly retried = new Counter({
    name: 'mail_jobs_retried_total',
    help: 'Failed attempts of mail jobs that will be retried, by event',
    labelNames: ['event'],
    registers: [this.registry],
  });

  private readonly sendDuration = new Histogram({
    name: 'mail_send_duration_seconds',
    help: 'Time to compose and send one email (SMTP or .eml file), by event',
    labelNames: ['event'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(@InjectQueue(MAIL_QUEUE) queue: Queue) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'mail_queue_jobs',
      help: 'Jobs in the mail queue by state (waiting, delayed, active, failed)',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await countJobs(queue);
        this.reset();
        if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    // Every series exists from the start, so rates and alerts work before the first job.
    for (const event of MAIL_EVENT_NAMES) {
      for (const counter of [this.completed, this.failed, this.retried]) counter.inc({ event }, 0);
    }
  }

  jobCompleted(event: string): void {
    this.completed.inc({ event: label(event) });
  }

  /** One failed attempt: `final` when the job is kept as failed, otherwise it will be retried. */
  jobFailed(event: string, final: boolean): void {
    (final ? this.failed : this.retried).inc({ event: label(event) });
  }

  observeSend(event: string, seconds: number): void {
    this.sendDuration.observe({ event: label(event) }, seconds);
  }
}

/** Job names come from Redis; anything but a known event is one series, not one per name. */
function label(event: string): string {
  return isMailEventName(event) ? event : 'unknown';
}

function countJobs(queue: Queue): Promise<Record<string, number> | undefined> {
  const counts = queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
  return withinDeadline(counts, QUEUE_COUNT_TIMEOUT_MS, () => undefined);
}
