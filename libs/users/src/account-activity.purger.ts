import { MikroORM } from '@mikro-orm/core';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { BatchedPurge } from '@accounts/database';

const INTERVAL_MS = 60 * 60 * 1_000;
const MIN_INTERVAL_MS = 1_000;

/**
 * Deletes account activity older than AUDIT_RETENTION, in batches of 1,000, oldest first, once an
 * hour (sooner for a shorter retention); any number of API replicas can run it at once.
 */
@Injectable()
export class AccountActivityPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly purger: BatchedPurge;

  constructor(orm: MikroORM, @Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    this.purger = new BatchedPurge(orm, new Logger(AccountActivityPurger.name), {
      what: 'account activity rows older than AUDIT_RETENTION',
      sql: `delete from account_activity where id in (
              select id from account_activity where at < now() - ?::interval order by at limit ? for update skip locked)`,
      params: () => [`${config.auditRetentionMs} milliseconds`],
      batchSize: 1_000,
      maxBatchesPerPass: 100,
      intervalMs: () => Math.max(MIN_INTERVAL_MS, Math.min(INTERVAL_MS, config.auditRetentionMs)),
    });
  }

  onApplicationBootstrap(): void {
    this.purger.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.purger.stop();
  }

  /** One pass now; returns how many rows were deleted. */
  purge(): Promise<number> {
    return this.purger.runOnce();
  }
}
