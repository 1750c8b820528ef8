import type { EntityManager, QueryResult } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { sourceName, type SqlFragment } from '@accounts/database';
import { PayloadSealer, type MailEventName, type MailEventPayloads, type SealedToken } from '../contract';
import { OutboxEvent } from './outbox-event.entity';
import { OutboxRelay } from './outbox.relay';

/** Helpers a payload builder gets: the event's id and a way to seal tokens bound to it. */
export interface EventContext {
  eventId: string;
  /** Seals a token for this event and the payload's recipient (`userId` and `email`, as built). */
  seal(token: string): SealedToken;
}

/** The one writer of domain events. */
@Injectable()
export class OutboxService {
  constructor(
    private readonly sealer: PayloadSealer,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * Adds an event to the caller's unit of work; it is stored with that unit's next flush, and the
   * relay publishes it right after the transaction that carries it commits, whichever entity
   * manager runs it (see OutboxRelay.afterCreate).
   */
  record<N extends MailEventName>(
    em: EntityManager,
    name: N,
    build: (context: EventContext) => MailEventPayloads[N],
  ): OutboxEvent {
    const event = this.compose(name, build);
    em.persist(event);
    return event;
  }

  /**
   * The event record() would store, as an `insert … select … from <source>` for a hot path that
   * writes it inside a statement of its own (one round trip instead of a transaction): it is stored
   * once per row of `source`, so an empty source stores nothing. The ORM does not see that insert:
   * call committed() once the statement has run.
   */
  insertFrom<N extends MailEventName>(source: string, name: N, build: (context: EventContext) => MailEventPayloads[N]): SqlFragment {
    const event = this.compose(name, build);
    return {
      sql: `insert into outbox (id, name, payload, created_at) select ?, ?, ?::jsonb, now() from ${sourceName(source)}`,
      params: [event.id, event.name, JSON.stringify(event.payload)],
    };
  }

  /** Events went in through insertFrom() and committed: the relay publishes them now. */
  committed(): void {
    this.relay.kick();
  }

  private compose<N extends MailEventName>(name: N, build: (context: EventContext) => MailEventPayloads[N]): OutboxEvent {
    const event = new OutboxEvent();
    event.name = name;
    // The recipient is known only once the payload is built, so seal() hands out placeholders that
    // are filled right after, bound to the payload's own userId and email.
    const unsealed: Array<[SealedToken, string]> = [];
    const payload = build({
      eventId: event.id,
      seal: (token) => {
        const placeholder: SealedToken = { sealed: '' };
        unsealed.push([placeholder, token]);
        return placeholder;
      },
    });
    for (const [placeholder, token] of unsealed) {
      placeholder.sealed = this.sealer.seal(token, { eventId: event.id, userId: payload.userId, email: payload.email }).sealed;
    }
    event.payload = payload;
    return event;
  }

  /**
   * Deletes every event about a user (published ones kept for OUTBOX_RETENTION, and ones still
   * waiting for the relay) in the caller's transaction: an account being deleted leaves no address,
   * name or sealed token of its own behind. A row the relay is publishing at that moment is waited
   * for, then deleted too (its job is already on the queue). Record the events that should go out
   * after this call. Returns how many rows went.
   */
  async forgetUser(em: EntityManager, userId: string): Promise<number> {
    await em.flush();
    const deleted = await em
      .getConnection()
      .execute<QueryResult>(`delete from outbox where payload->>'userId' = ?`, [userId], 'run', em.getTransactionContext());
    return deleted.affectedRows;
  }
}

