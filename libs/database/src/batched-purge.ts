import type { MikroORM, QueryResult } from '@mikro-orm/core';
import type { Logger } from '@nestjs/common';

export interface BatchedPurgeOptions {
  /** What is deleted, for the log lines ("account activity rows older than AUDIT_RETENTION"). */
  what: string;
  /**
   * One DELETE of at most one batch, oldest first, whose last parameter is the batch size; it
   * should lock with `for update skip locked`, so replicas purging at once skip each other's rows.
   */
  sql: string;
  /** The statement's parameters before the batch size, read at each pass. */
  params: () => unknown[];
  batchSize: number;
  maxBatchesPerPass: number;
  /** Pause between the end of one pass and the start of the next. */
  intervalMs: () => number;
}

/**
 * A background purge: passes of bounded batches on a forked entity manager (never the global one),
 * until a batch comes back short, repeated every `intervalMs`. A failed pass is logged by the
 * error's class only (a driver error's message carries its SQL) and the next one tries again.
 */
export class BatchedPurge {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly options: BatchedPurgeOptions,
  ) {}

  /** Schedules the first pass after `delayMs`, then one every interval. */
  start(delayMs = 0): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((deleted) => {
          if (deleted > 0) this.logger.log(`Deleted ${deleted} ${this.options.what}`);
        })
        .catch((error: unknown) => this.logger.warn(`Cleanup of ${this.options.what} failed (${error instanceof Error ? error.name : typeof error}); it runs again later`))
        .finally(() => {
          this.running = undefined;
          this.start(this.options.intervalMs());
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops scheduling and waits for a pass in progress (which ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass now; returns how many rows were deleted. */
  async runOnce(): Promise<number> {
    const { sql, params, batchSize, maxBatchesPerPass } = this.options;
    let total = 0;
    for (let batch = 0; batch < maxBatchesPerPass && !this.stopped; batch++) {
      const result = await this.orm.em.fork().getConnection().execute<QueryResult>(sql, [...params(), batchSize], 'run');
      total += result.affectedRows;
      if (result.affectedRows < batchSize) break;
    }
    return total;
  }
}
