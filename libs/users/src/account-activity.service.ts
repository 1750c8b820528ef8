import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { sourceName, type SqlFragment } from '@accounts/database';
import { AccountActivity, type ActivityType } from './account-activity.entity';
import { cleanClientMeta, type ClientMeta } from './client-meta.util';

/** One row of the activity record as its owner reads it. */
export interface ActivityView {
  id: string;
  type: ActivityType;
  at: string;
  ip: string | null;
  userAgent: string | null;
}

/** A page of the record, newest first; `next` is the `before` of the following page, null at the end. */
export interface ActivityPage {
  items: ActivityView[];
  next: string | null;
}

/** The most activity rows a data export holds (the newest ones). */
export const EXPORT_ACTIVITY_LIMIT = 10_000;

function toView(row: AccountActivity): ActivityView {
  return { id: row.id, type: row.type, at: row.at.toISOString(), ip: row.ip, userAgent: row.userAgent };
}

/** The account activity record (SPEC §10): written by the flows it describes, read by its owner. */
@Injectable()
export class AccountActivityService implements OnApplicationShutdown {
  private readonly logger = new Logger(AccountActivityService.name);
  /** Records written apart from a request (recordApart), awaited at shutdown. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly em: EntityManager) {}

  /**
   * Records an event in the caller's unit of work, so it commits (or rolls back) with the change it
   * describes. Flush or commit the transaction as usual.
   */
  record(em: EntityManager, userId: string, type: ActivityType, client: ClientMeta = {}): void {
    const { ip, userAgent } = cleanClientMeta(client);
    em.persist(new AccountActivity(userId, type, ip, userAgent));
  }

  /**
   * record() as an `insert … select … from <source>`, one row per row of `source` (whose `id` is
   * the user's), for a hot path that writes inside a statement of its own.
   */
  insertFrom(source: string, type: ActivityType, client: ClientMeta = {}): SqlFragment {
    const { ip, userAgent } = cleanClientMeta(client);
    return {
      sql: `insert into account_activity (user_id, type, at, ip, user_agent) select id, ?, now(), ?, ? from ${sourceName(source)}`,
      params: [type, ip, userAgent],
    };
  }

  /**
   * Records an event that changes nothing else (a failed sign-in) in a unit of work of its own,
   * without making the caller wait: the answer to the request costs the same whether a row is
   * written or not. A failure is logged, never thrown.
   */
  recordApart(userId: string, type: ActivityType, client: ClientMeta = {}): void {
    const write = this.em
      .fork()
      .transactional((em) => this.recordIfAccount(em, userId, type, client))
      // The class name only: a driver error's message carries its SQL and values.
      .catch((error: unknown) => this.logger.warn(`Activity ${type} not recorded (${error instanceof Error ? error.name : typeof error})`))
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /**
   * Records an event, in the caller's transaction, only if the account still exists: for a write
   * that no other change of the account orders (a failed sign-in). The account row is held `for
   * share`, which waits for a deletion holding it and makes a later deletion wait, so the row is
   * either anonymised with the others or never written.
   */
  async recordIfAccount(em: EntityManager, userId: string, type: ActivityType, client: ClientMeta = {}): Promise<void> {
    const held: unknown[] = await em
      .getConnection()
      .execute('select 1 from users where id = ? for share', [userId], 'all', em.getTransactionContext());
    if (held.length > 0) this.record(em, userId, type, client);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** A page of a user's record, newest first, starting below the row id `before` when given. */
  async page(userId: string, { limit, before }: { limit: number; before?: string }): Promise<ActivityPage> {
    const rows = await this.em.fork().find(
      AccountActivity,
      { userId, ...(before === undefined ? {} : { id: { $lt: before } }) },
      { orderBy: { id: 'desc' }, limit: limit + 1 },
    );
    const items = rows.slice(0, limit).map(toView);
    return { items, next: rows.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * The record of a user for the data export, newest first: at most EXPORT_ACTIVITY_LIMIT rows, so
   * one request never reads a record grown without bound (older rows are paged through `page`).
   */
  async newest(em: EntityManager, userId: string): Promise<ActivityView[]> {
    return (await em.find(AccountActivity, { userId }, { orderBy: { id: 'desc' }, limit: EXPORT_ACTIVITY_LIMIT })).map(toView);
  }

  /** Keeps only the user id of a deleted account's rows: no address, IP or user agent is left. */
  async anonymise(em: EntityManager, userId: string): Promise<void> {
    await em.nativeUpdate(AccountActivity, { userId }, { ip: null, userAgent: null });
  }
}
