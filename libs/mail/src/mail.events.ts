/**
 * The queue contract between the api (producer) and the mail worker (consumer). Job names are the
 * event names, job ids are the event ids, and every payload carries its schema version.
 */
export const MAIL_QUEUE = 'mail';

/** A one-time token sealed with AES-256-GCM under PAYLOAD_KEY; only the worker opens it. */
export interface SealedToken {
  sealed: string;
}

interface Recipient {
  v: 1;
  userId: string;
  email: string;
  name: string | null;
}

export interface MailEventPayloads {
  /** A new account. With confirmation on it carries the confirmation token; otherwise it is a welcome. */
  'user.registered': Recipient & { confirmationToken: SealedToken | null };
  /** Someone tried to register an address that already has a confirmed account. */
  'user.registration-attempted': Recipient;
  /**
   * A fresh confirmation link (resend, or a repeat registration of an unconfirmed address).
   * `choosePassword`: the link carries no password and confirming asks for one (an anonymous
   * resend); absent in jobs queued before it existed, which carried a password.
   */
  'email.confirmation-requested': Recipient & { confirmationToken: SealedToken; choosePassword?: boolean };
  'password.reset-requested': Recipient & { resetToken: SealedToken };
  'password.changed': Recipient & { via: 'reset' | 'change' };
}

export type MailEventName = keyof MailEventPayloads;

export const MAIL_EVENT_NAMES = [
  'user.registered',
  'user.registration-attempted',
  'email.confirmation-requested',
  'password.reset-requested',
  'password.changed',
] as const satisfies readonly MailEventName[];

/** What a job of the mail queue carries: `job.name` is the event name, `job.id` the event id. */
export type MailJobData<N extends MailEventName = MailEventName> = MailEventPayloads[N];
