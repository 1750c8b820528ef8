import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import QRCode from 'qrcode';
import { appConfig } from '@accounts/config';
import { OutboxService } from '@accounts/mail/outbox';
import { AccountActivityService, User, type ClientMeta } from '@accounts/users';
import type { Principal } from '../access-token.service';
import { AuthenticationRequiredError, EmailNotConfirmedError } from '../auth.errors';
import { AuthService, recipient } from '../auth.service';
import { SecurityEvents } from '../security-events.service';
import { SessionsService } from '../sessions.service';
import { MfaFactor } from './mfa-factor.service';
import { MfaAlreadyEnabledError, MfaNotEnabledError } from './mfa.errors';
import { newTotpSecret, totpUrl } from './totp.util';

/** What the setup shows once: the secret for manual entry, and the same as a URL and a QR code. */
export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
  /** The QR code of `otpauthUrl`, as SVG markup (no script, no style attribute: fits a strict CSP). */
  qrSvg: string;
}

/**
 * A second factor guards an address its owner proved: set up by someone who registered another's
 * address without reading its inbox, it would lock the owner out after their reset (SPEC §5).
 */
function assertAddressConfirmed(user: User): void {
  if (!user.emailConfirmed) {
    throw new EmailNotConfirmedError('Confirm your email address before turning on two-step sign-in: open the link we sent, or ask for a new one');
  }
}

/**
 * The MFA settings of a signed-in user (SPEC §11): set up, enable, disable, new recovery codes.
 * Sensitive changes ask for re-authentication through AuthService.assertRecentAuthentication, and
 * every code checked counts against the per-account limit when wrong.
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly em: EntityManager,
    private readonly auth: AuthService,
    private readonly factor: MfaFactor,
    private readonly outbox: OutboxService,
    private readonly activity: AccountActivityService,
    private readonly events: SecurityEvents,
    private readonly sessions: SessionsService,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
  ) {}

  /** A new secret, pending until `enableTotp` sees a code of it; replaces a pending one. */
  async beginTotpSetup(principal: Principal, currentPassword: string | undefined): Promise<TotpSetup> {
    const user = await this.auth.assertRecentAuthentication(principal, currentPassword);
    const secret = newTotpSecret();
    await this.inLockedAccount(user.id, async (em, fresh) => {
      if (fresh.mfaEnabledAt) throw new MfaAlreadyEnabledError();
      assertAddressConfirmed(fresh);
      await this.factor.storePending(em, fresh.id, secret);
    });
    const otpauthUrl = totpUrl(secret, this.app.name, user.email);
    return { secret, otpauthUrl, qrSvg: await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
  }

  /** Turns MFA on with a first code of the pending secret; returns the recovery codes, shown once. */
  enableTotp(principal: Principal, code: string, client: ClientMeta): Promise<string[]> {
    return this.factor.guardCodes(principal.userId, () =>
      this.inLockedAccount(principal.userId, async (em, user) => {
        if (user.mfaEnabledAt) throw new MfaAlreadyEnabledError();
        assertAddressConfirmed(user);
        await this.factor.spendTotpCode(em, user.id, code, 'pending');
        await this.factor.enable(em, user.id);
        user.mfaEnabledAt = new Date();
        const codes = await this.factor.replaceRecoveryCodes(em, user.id);
        // Like a new password: a session stolen before (a refresh token, a browser cookie) must not
        // outlive the factor that now guards the account. The caller's own session stays.
        await this.sessions.revokeAll(em, user.id, principal.sessionId);
        this.activity.record(em, user.id, 'mfa.enabled', client);
        this.outbox.record(em, 'mfa.enabled', () => recipient(user));
        this.events.record('auth.mfa.enabled', { userId: user.id });
        return codes;
      }),
    );
  }

  /** Turns MFA off: the current password and a code (or a recovery code). */
  async disableTotp(principal: Principal, currentPassword: string | undefined, code: string, client: ClientMeta): Promise<void> {
    await this.auth.assertRecentAuthentication(principal, currentPassword);
    await this.factor.guardCodes(principal.userId, () =>
      this.inLockedAccount(principal.userId, async (em, user) => {
        if (!user.mfaEnabledAt) throw new MfaNotEnabledError();
        await this.factor.spendEitherCode(em, user.id, code, client);
        await this.factor.remove(em, user.id);
        user.mfaEnabledAt = null;
        this.activity.record(em, user.id, 'mfa.disabled', client);
        this.outbox.record(em, 'mfa.disabled', () => recipient(user));
        this.events.record('auth.mfa.disabled', { userId: user.id });
      }),
    );
  }

  /** A new set of recovery codes (the current password and a code); the old set stops working. */
  async regenerateRecoveryCodes(principal: Principal, currentPassword: string | undefined, code: string, client: ClientMeta): Promise<string[]> {
    await this.auth.assertRecentAuthentication(principal, currentPassword);
    return this.factor.guardCodes(principal.userId, () =>
      this.inLockedAccount(principal.userId, async (em, user) => {
        if (!user.mfaEnabledAt) throw new MfaNotEnabledError();
        await this.factor.spendEitherCode(em, user.id, code, client);
        return this.factor.replaceRecoveryCodes(em, user.id);
      }),
    );
  }

  /** Runs `work` in a transaction holding the account's row, so two changes of the factor never interleave. */
  private inLockedAccount<T>(userId: string, work: (em: EntityManager, user: User) => Promise<T>): Promise<T> {
    return this.em.transactional(async (em) => {
      const user = await em.getRepository(User).findByIdLocked(userId);
      if (!user) throw new AuthenticationRequiredError();
      return work(em, user);
    });
  }
}
