import type { EntityManager, QueryResult } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { PayloadSealer, type MailEventName, type MailEventPayloads, type SealedToken } from '../contract';
import { OutboxEvent } from './outbox-event.entity';

/** Helpers a payload builder gets: the event's id and a way to seal tokens bound to it. */
export interface EventContext {
  eventId: string;
  /** Seals a token for this event and the payload's recipient (`userId` and `email`, as built). */
  seal(token: string): SealedToken;
}

/** The one writer of domain events. */
@Injectable()
export class OutboxService {
  constructor(private readonly sealer: PayloadSealer) {}

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
    em.persist(event);
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

