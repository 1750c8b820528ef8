import { MikroORM, type QueryResult } from '@mikro-orm/core';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';

const BATCH_SIZE = 500;
const MAX_BATCHES_PER_PASS = 100;
const INTERVAL_MS = 60 * 60 * 1_000;
const MIN_INTERVAL_MS = 1_000;

/**
 * Deletes unconfirmed accounts older than UNCONFIRMED_ACCOUNT_TTL while confirmation is required:
 * such an account is a claim on an address nobody proved to read, and it would otherwise sit on
 * the address for ever. With confirmation off, unconfirmed accounts are ordinary accounts and are
 * never touched. Tokens and sessions go with the user (foreign keys cascade).
 *
 * Kept: accounts that ever had a session (registered while confirmation was off, then the flag
 * was switched on: in use by someone, not a stale claim), and accounts with a live emailed link
 * (nobody's click on a valid link is answered by a vanished account).
 */
@Injectable()
export class UnconfirmedAccountsCleaner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UnconfirmedAccountsCleaner.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.emailConfirmationRequired) this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One pass, in batches, oldest first. Replicas purging at once skip each other's rows (and rows a
   * registration is updating). Returns how many accounts were deleted.
   */
  async purge(): Promise<number> {
    if (!this.config.emailConfirmationRequired) return 0;
    const olderThan = `${this.config.unconfirmedAccountTtlMs} milliseconds`;
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS && !this.stopped; batch++) {
      const result = await this.orm.em.fork().getConnection().execute<QueryResult>(
        `delete from users where id in (
           select u.id from users u
            where u.email_confirmed_at is null and u.created_at < now() - ?::interval
              and not exists (select 1 from sessions s where s.user_id = u.id)
              and not exists (select 1 from one_time_tokens t
                               where t.user_id = u.id and t.used_at is null and t.expires_at > now())
            order by u.created_at
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
          if (deleted > 0) this.logger.log(`Deleted ${deleted} unconfirmed accounts older than UNCONFIRMED_ACCOUNT_TTL`);
        })
        // The class name only: a driver error's message carries its SQL.
        .catch((error: unknown) => this.logger.warn(`Unconfirmed account cleanup failed (${errorName(error)}); it runs again later`))
        .finally(() => {
          this.running = undefined;
          this.schedule(Math.max(MIN_INTERVAL_MS, Math.min(INTERVAL_MS, this.config.unconfirmedAccountTtlMs)));
        });
    }, delayMs);
    this.timer.unref();
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
