import { MikroORM } from '@mikro-orm/core';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { BatchedPurge } from '@accounts/database';

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
  private readonly purger: BatchedPurge;

  constructor(
    orm: MikroORM,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {
    // In batches of 500, oldest first; replicas skip each other's rows (and rows a registration is updating).
    this.purger = new BatchedPurge(orm, new Logger(UnconfirmedAccountsCleaner.name), {
      what: 'unconfirmed accounts older than UNCONFIRMED_ACCOUNT_TTL',
      sql: `delete from users where id in (
              select u.id from users u
               where u.email_confirmed_at is null and u.created_at < now() - ?::interval
                 and not exists (select 1 from sessions s where s.user_id = u.id)
                 and not exists (select 1 from one_time_tokens t
                                  where t.user_id = u.id and t.used_at is null and t.expires_at > now())
               order by u.created_at
               limit ? for update skip locked)`,
      params: () => [`${config.unconfirmedAccountTtlMs} milliseconds`],
      batchSize: 500,
      maxBatchesPerPass: 100,
      intervalMs: () => Math.max(MIN_INTERVAL_MS, Math.min(INTERVAL_MS, config.unconfirmedAccountTtlMs)),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.emailConfirmationRequired) this.purger.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.purger.stop();
  }

  /** One pass now; returns how many accounts were deleted. */
  async purge(): Promise<number> {
    if (!this.config.emailConfirmationRequired) return 0;
    return this.purger.runOnce();
  }
}
