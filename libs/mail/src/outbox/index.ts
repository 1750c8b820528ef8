// @accounts/mail/outbox: the producer side of the mail queue, for the API only.
export { OutboxEvent } from './outbox-event.entity';
export { OutboxService, type EventContext } from './outbox.service';
export { OutboxRelay } from './outbox.relay';
export { MailQueueModule } from './mail-queue.module';
export { MailQueueScrubber } from './mail-queue.scrubber';
