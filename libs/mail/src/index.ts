export * from './mail.events';
export { PayloadSealer, PayloadSealError, type SealBinding } from './payload-sealer';
export { OutboxEvent } from './outbox-event.entity';
export { OutboxService, type EventContext } from './outbox.service';
export { OutboxRelay } from './outbox.relay';
export { MailQueueModule } from './mail-queue.module';
export { redisOptions } from './redis-connection';
export { pingWithin, redisUnreachableReason } from './redis-probe';
