import { MikroORM, type QueryResult } from '@mikro-orm/core';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';

const BATCH_SIZE = 1_000;
const MAX_BATCHES_PER_PASS = 100;
const INTERVAL_MS = 60 * 60 * 1_000;
const MIN_INTERVAL_MS = 1_000;

/**
 * Deletes account activity older than AUDIT_RETENTION, in bounded batches, oldest first, once an
 * hour (sooner for a shorter retention). Replicas purging at once skip each other's rows
 * (`SKIP LOCKED`), so any number of API processes can run it.
 */
@Injectable()
export class AccountActivityPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AccountActivityPurger.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns how many rows were deleted. */
  async purge(): Promise<number> {
    const olderThan = `${this.config.auditRetentionMs} milliseconds`;
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS && !this.stopped; batch++) {
      const result = await this.orm.em.fork().getConnection().execute<QueryResult>(
        `delete from account_activity where id in (
           select id from account_activity
            where at < now() - ?::interval
            order by at
            limit ? for update skip locked)`,
        [olderThan, BATCH_SIZE],
        'run',
      );
      total += result.affectedRows;
      if (result.affectedRows < BATCH_SIZE) break;
    }
    return total;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.purge()
        .then((deleted) => {
          if (deleted > 0) this.logger.log(`Deleted ${deleted} account activity rows older than AUDIT_RETENTION`);
        })
        // The class name only: a driver error's message carries its SQL.
        .catch((error: unknown) => this.logger.warn(`Account activity cleanup failed (${error instanceof Error ? error.name : typeof error}); it runs again later`))
        .finally(() => {
          this.running = undefined;
          this.schedule(Math.max(MIN_INTERVAL_MS, Math.min(INTERVAL_MS, this.config.auditRetentionMs)));
        });
    }, delayMs);
    this.timer.unref();
  }
}
