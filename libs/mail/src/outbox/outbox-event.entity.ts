import { randomUUID } from 'node:crypto';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import type { MailEventName } from '../contract';

/**
 * A domain event waiting to reach the mail queue. Written in the same transaction as the change it
 * describes, so an event exists exactly when its change committed. Once published it is kept for
 * OUTBOX_RETENTION, then the relay deletes it.
 */
@Entity({ tableName: 'outbox' })
@Index({ name: 'outbox_unpublished_idx', properties: ['createdAt'], options: { where: 'published_at is null' } })
@Index({ name: 'outbox_published_idx', properties: ['publishedAt'], options: { where: 'published_at is not null' } })
export class OutboxEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 100 })
  name: MailEventName;

  @Property({ type: 'json' })
  payload: object;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  publishedAt: Date | null = null;
}
