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

/** One event of the contract; `P` is its payload type, carried by the type only. */
export interface MailEventSpec<P extends Recipient> {
  readonly description: string;
  /** Never set: it holds the payload type for MailEventPayloads. */
  readonly payload?: P;
}

function event<P extends Recipient>(description: string): MailEventSpec<P> {
  return { description };
}

/**
 * The one list of mail events: the name union, the payload types and MAIL_EVENT_NAMES all derive
 * from it, so an event cannot be declared in one place and missing from another.
 */
export const MAIL_EVENTS = {
  'user.registered': event<Recipient & { confirmationToken: SealedToken | null }>(
    'A new account. With confirmation on it carries the confirmation token; otherwise it is a welcome.',
  ),
  'user.registration-attempted': event<Recipient>('Someone tried to register an address that already has a confirmed account.'),
  /**
   * `choosePassword`: the link carries no password and confirming asks for one (every such link
   * now sets it); absent in jobs queued before it existed, which carried a password.
   */
  'email.confirmation-requested': event<Recipient & { confirmationToken: SealedToken; choosePassword?: boolean }>(
    'A fresh confirmation link (resend, or a repeat registration of an unconfirmed address).',
  ),
  'password.reset-requested': event<Recipient & { resetToken: SealedToken }>('A password reset link was asked for.'),
  'password.changed': event<Recipient & { via: 'reset' | 'change' }>('The password was changed, by a reset or by the user.'),
  /** To the requested new address (not proven yet, so never with the account's name). */
  'email.change-requested': event<Recipient & { changeToken: SealedToken }>(
    'A signed-in user asked to move their account to this address; the link confirms the change.',
  ),
  /** To the owner of an address someone asked to move their account to; no link. */
  'email.change-attempted': event<Recipient>('Someone asked to move their account to an address that already has one.'),
  /** To the old address after a change; the link undoes it. */
  'email.changed': event<Recipient & { undoToken: SealedToken }>('The address of the account was changed; the old address can undo it.'),
  /** Sent after the account is gone: it carries the address and nothing else of the account (`name` is null). */
  'user.deleted': event<Recipient>('The account was deleted by its owner.'),
  'mfa.enabled': event<Recipient>('Two-step sign-in (TOTP) was turned on. A notice: no code or secret.'),
  'mfa.disabled': event<Recipient>('Two-step sign-in (TOTP) was turned off. A notice: no code or secret.'),
  /** `remaining`: how many unused recovery codes the account still has. */
  'mfa.recovery-code-used': event<Recipient & { remaining: number }>('A recovery code was used to sign in. A notice: no code.'),
  /** `provider`: the provider's label (OIDC_<ID>_LABEL) as the sign-in buttons show it. */
  'identity.linked': event<Recipient & { provider: string }>('An identity at an external provider was linked to a confirmed account (SPEC §12).'),
};

export type MailEventName = keyof typeof MAIL_EVENTS;

export type MailEventPayloads = { [N in MailEventName]: NonNullable<(typeof MAIL_EVENTS)[N]['payload']> };

export const MAIL_EVENT_NAMES = Object.keys(MAIL_EVENTS) as readonly MailEventName[];

export function isMailEventName(name: string): name is MailEventName {
  return Object.hasOwn(MAIL_EVENTS, name);
}

/** What a job of the mail queue carries: `job.name` is the event name, `job.id` the event id. */
export type MailJobData<N extends MailEventName = MailEventName> = MailEventPayloads[N];
