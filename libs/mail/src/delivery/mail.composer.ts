import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '@accounts/config';
import { isSingleAddress, PayloadSealer, type MailEventName, type MailEventPayloads, type SealedToken } from '../contract';
import { MailRenderer, type TemplateContext } from './mail.renderer';

/** A message ready to send: one recipient, both parts. */
export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** The event can never become a mail, however often it is retried. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/** An event payload schema this worker does not know yet; a newer replica may. */
export class UnsupportedEventVersionError extends Error {
  override readonly name = 'UnsupportedEventVersionError';
}

type EventContext<N extends MailEventName> = (
  payload: MailEventPayloads[N],
  open: (token: SealedToken) => string,
  link: (path: string, token?: string) => string,
) => Record<string, unknown>;

/**
 * What each event adds to the template context: the composer case of an event. A new event
 * without one does not compile (and the completeness spec fails).
 */
export const COMPOSER_CASES: { [N in MailEventName]: EventContext<N> } = {
  'user.registered': (payload, open, link) => ({
    confirmUrl: payload.confirmationToken ? link('/confirm-email', open(payload.confirmationToken)) : null,
    signInUrl: link('/login'),
  }),
  'user.registration-attempted': (_payload, _open, link) => ({
    signInUrl: link('/login'),
    forgotPasswordUrl: link('/forgot-password'),
  }),
  'email.confirmation-requested': (payload, open, link) => ({
    confirmUrl: link('/confirm-email', open(payload.confirmationToken)),
    choosePassword: payload.choosePassword === true,
  }),
  'password.reset-requested': (payload, open, link) => ({
    resetUrl: link('/reset-password', open(payload.resetToken)),
  }),
  'password.changed': (payload, _open, link) => ({
    viaReset: payload.via === 'reset',
    forgotPasswordUrl: link('/forgot-password'),
  }),
  'email.change-requested': (payload, open, link) => ({
    confirmUrl: link('/confirm-email-change', open(payload.changeToken)),
  }),
  'email.change-attempted': () => ({}),
  'email.changed': (payload, open, link) => ({
    undoUrl: link('/undo-email-change', open(payload.undoToken)),
  }),
  'user.deleted': (_payload, _open, link) => ({
    registerUrl: link('/register'),
  }),
  'mfa.enabled': (_payload, _open, link) => ({ accountUrl: link('/account'), forgotPasswordUrl: link('/forgot-password') }),
  'mfa.disabled': (_payload, _open, link) => ({ accountUrl: link('/account'), forgotPasswordUrl: link('/forgot-password') }),
  'mfa.recovery-code-used': (payload, _open, link) => ({
    remaining: Number.isInteger(payload.remaining) && payload.remaining >= 0 ? payload.remaining : null,
    accountUrl: link('/account'),
    forgotPasswordUrl: link('/forgot-password'),
  }),
  'identity.linked': (payload, _open, link) => ({
    provider: payload.provider,
    accountUrl: link('/account'),
    forgotPasswordUrl: link('/forgot-password'),
  }),
};

/**
 * Turns an event into a mail. Every link starts with APP_URL and nothing from the event decides
 * where a link points; tokens are opened here, bound to the event, user and recipient they were
 * sealed for.
 */
@Injectable()
export class MailComposer {
  constructor(
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    private readonly sealer: PayloadSealer,
    private readonly renderer: MailRenderer,
  ) {}

  compose<N extends MailEventName>(name: N, payload: MailEventPayloads[N], eventId: string): OutgoingMail {
    if (typeof payload !== 'object' || payload === null) throw new MalformedEventError(`${name} has no payload`);
    if (payload.v !== 1) throw new UnsupportedEventVersionError(`${name} payload version ${String(payload.v)} is not supported`);
    if (!isSingleAddress(payload.email)) {
      throw new MalformedEventError(`${name} has no valid recipient address`);
    }
    const open = (token: SealedToken) => {
      if (typeof token?.sealed !== 'string') throw new MalformedEventError(`${name} carries a malformed sealed token`);
      // Bound to the address the mail goes to: a job whose recipient was changed cannot be opened.
      return this.sealer.open(token, { eventId, userId: payload.userId, email: payload.email });
    };
    const context: TemplateContext = {
      appName: this.app.name,
      appUrl: this.app.url,
      name: typeof payload.name === 'string' && payload.name.trim() !== '' ? payload.name : null,
      email: payload.email,
      ...(COMPOSER_CASES[name] as EventContext<N>)(payload, open, (path, token) => this.link(path, token)),
    };
    return { to: payload.email, ...this.renderer.render(name, context) };
  }

  private link(path: string, token?: string): string {
    return token === undefined ? `${this.app.url}${path}` : `${this.app.url}${path}?token=${encodeURIComponent(token)}`;
  }
}
