import type { EntityManager } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import type { MailEventName, MailEventPayloads, SealedToken } from './mail.events';
import { OutboxEvent } from './outbox-event.entity';
import { PayloadSealer } from './payload-sealer';

/** Helpers a payload builder gets: the event's id and a way to seal tokens bound to it. */
export interface EventContext {
  eventId: string;
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
    event.payload = build({ eventId: event.id, seal: (token) => this.sealer.seal(token, event.id) });
    em.persist(event);
    this.pending.add(em);
    return event;
  }

  /** True once per transaction that recorded an event; the relay asks after each commit. */
  takePending(em: EntityManager): boolean {
    return this.pending.delete(em);
  }
}

