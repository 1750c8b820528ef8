import type { EntityManager } from '@mikro-orm/core';
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
  private readonly pending = new WeakSet<EntityManager>();

  constructor(private readonly sealer: PayloadSealer) {}

  /**
   * Adds an event to the caller's unit of work; it is stored when that transaction commits and
   * published to the queue right after.
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
    this.pending.add(em);
    return event;
  }

  /** True once per transaction that recorded an event; the relay asks after each commit. */
  takePending(em: EntityManager): boolean {
    return this.pending.delete(em);
  }
}

