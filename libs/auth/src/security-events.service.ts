import { Injectable, Logger } from '@nestjs/common';

export type SecurityEvent =
  | 'auth.signin.succeeded'
  | 'auth.signin.failed'
  | 'auth.signin.unconfirmed'
  | 'auth.signin.mfa_required'
  | 'auth.signin.mfa_failed'
  | 'auth.mfa.enabled'
  | 'auth.mfa.disabled'
  | 'auth.refresh.reused'
  | 'auth.browser.reused'
  | 'auth.password.changed'
  | 'auth.session.revoked'
  | 'auth.account.deleted'
  | 'auth.mail.capped'
  | 'auth.email.change_requested'
  | 'auth.email.changed'
  | 'auth.email.change_undone'
  | 'auth.oidc.linked'
  | 'auth.oidc.unlinked'
  | 'auth.oidc.failed'
  | 'security.throttled';

export type SecurityEventFields = Record<string, string | number | boolean | null | undefined>;

/** Told of every security event after it is logged (the API counts them as metrics). */
export type SecurityEventObserver = (event: SecurityEvent, fields: SecurityEventFields) => void;

const WARNINGS: ReadonlySet<SecurityEvent> = new Set([
  'auth.signin.failed',
  'auth.signin.mfa_failed',
  'auth.refresh.reused',
  'auth.browser.reused',
  'auth.mail.capped',
  'security.throttled',
  'auth.oidc.failed',
]);

/**
 * Structured security events. Fields are logged as an object, so user-supplied values are
 * quoted and escaped (no forged lines through CR/LF); never pass a password, token or link.
 */
@Injectable()
export class SecurityEvents {
  private readonly logger = new Logger('Security');
  private readonly observers: SecurityEventObserver[] = [];

  record(event: SecurityEvent, fields: SecurityEventFields): void {
    const line = { event, ...fields };
    if (WARNINGS.has(event)) this.logger.warn(line);
    else this.logger.log(line);
    for (const observe of this.observers) observe(event, fields);
  }

  /** Adds an observer; the library itself does not know what it does (metrics, in the API). */
  observe(observer: SecurityEventObserver): void {
    this.observers.push(observer);
  }
}
