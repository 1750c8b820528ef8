import { EntityManager, ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { maskEmail } from '@accounts/mail/contract';
import { OutboxService } from '@accounts/mail/outbox';
import { InvalidTokenError, TokenPurpose, TokensService } from '@accounts/tokens';
import { AccountActivityService, canonicalEmail, toUserView, User, UsersService, userViewOfRow, type UserView } from '@accounts/users';
import { AccessTokenService, type Principal } from './access-token.service';
import {
  AuthenticationRequiredError,
  ConfirmationPasswordError,
  EmailNotConfirmedError,
  EmailTakenError,
  InvalidCredentialsError,
  WrongCurrentPasswordError,
} from './auth.errors';
import { AccountHandover } from './account-handover.service';
import { clientSource } from './client-source.util';
import { MfaFactor, type MfaProof } from './mfa/mfa-factor.service';
import { InvalidMfaCodeError, InvalidMfaTokenError, MfaRequiredError } from './mfa/mfa.errors';
import { PasswordHasher } from './password.hasher';
import { PasswordPolicy } from './password.policy';
import { RateLimits } from './rate-limits.service';
import { SecurityEvents } from './security-events.service';
import type { SessionMeta } from './session-meta.util';
import { ReauthenticationRequiredError } from './oidc.errors';
import { Session, type SignInMethod } from './session.entity';
import { SessionsService, type SessionView } from './sessions.service';

export interface Registration {
  email: string;
  password: string;
  name?: string | null;
}

/** With confirmation on, registration answers the same for new and taken addresses. */
export type RegistrationOutcome = { user: UserView } | { status: 'confirmation_required' };

/**
 * Which password a resent confirmation link carries: none for an anonymous request (whoever reads
 * the inbox chooses one when confirming), the account's current one for its signed-in owner.
 */

/** How recent a provider sign-in must be to stand in for a password (SPEC §12). */
export const REAUTHENTICATION_WINDOW_MS = 5 * 60 * 1000;

export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: UserView;
}

/**
 * Who an event goes to. Until the address is confirmed the name is left out: anyone can register
 * someone else's address, and their text must not reach that inbox.
 */
export function recipient(user: User) {
  return { v: 1 as const, userId: user.id, email: user.email, name: user.emailConfirmed ? user.name : null };
}

/**
 * The account flows. Each state change and the event describing it commit in one transaction; the
 * outbox relay takes the event to the mail queue afterwards, so no request ever waits on email.
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
    private readonly tokens: TokensService,
    private readonly outbox: OutboxService,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
    private readonly mfa: MfaFactor,
    private readonly activity: AccountActivityService,
    private readonly users: UsersService,
    private readonly handover: AccountHandover,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  async register(input: Registration): Promise<RegistrationOutcome> {
    this.policy.assertAcceptable(input.password, { email: input.email, name: input.name });
    // Hashed before the lookup so new and taken addresses cost the same.
    const passwordHash = await this.hasher.hash(input.password);
    const confirm = this.config.emailConfirmationRequired;
    // Counted for every registration; only repeat notices to a taken address and link-less welcomes
    // are ever held back, so a flood of forgot-password requests cannot keep a new user from their
    // confirmation link.
    const mailAllowed = await this.mailAllowed(input.email);
    try {
      return await this.em.transactional(async (em) => {
        const existing = await em.getRepository(User).findByEmailHeld(input.email);
        if (existing) {
          if (!confirm) throw new EmailTakenError();
          await this.noticeRepeatedRegistration(em, existing, mailAllowed);
          return { status: 'confirmation_required' as const };
        }
        const user = new User(input.email, passwordHash, input.name ?? null);
        em.persist(user);
        const token = confirm
          ? await this.tokens.issue(em, user, TokenPurpose.EmailConfirmation, this.config.confirmationTokenTtlMs, passwordHash)
          : null;
        // A welcome without a link is only news: above the cap it is held back, or registering,
        // moving the account away and registering again would mail an address without bound.
        if (confirm || mailAllowed) this.outbox.record(em, 'user.registered', ({ seal }) => ({
          ...recipient(user),
          confirmationToken: token ? seal(token) : null,
        }));
        return confirm ? { status: 'confirmation_required' as const } : { user: toUserView(user) };
      });
    } catch (error) {
      // A parallel registration of the same address won the unique index.
      if (error instanceof UniqueConstraintViolationException) {
        if (!confirm) throw new EmailTakenError();
        return { status: 'confirmation_required' };
      }
      throw error;
    }
  }

  /**
   * Signs in. A failed sign-in's point is taken before the hash is verified and given back when
   * the password was right, so parallel guesses never get past the limit. Unknown addresses run
   * the same lookups and argon2 work and count like wrong passwords; once the limit is reached
   * even the right password waits it out, unless it comes from a source of the owner's own.
   */
  async login(email: string, password: string, meta: SessionMeta): Promise<SignedIn> {
    const account = canonicalEmail(email);
    const read = await this.sessions.accountForSignIn(account);
    const user = read.user ? this.em.map(User, read.user) : null;
    const key = this.signInKey(account, user, read.liveSessionIps, meta.ip);
    await this.limits.consume('loginPerAccount', key);
    // An account without a password (created through a provider) costs what a wrong password costs.
    const valid = user?.passwordHash ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyDummy(password);
    if (!user || !valid) {
      this.events.record('auth.signin.failed', { email: maskEmail(account), ip: meta.ip, knownAccount: Boolean(user) });
      // Not awaited, so a known address answers as fast as an unknown one. Only guesses the limit
      // let through get here: the per-account limit bounds the rows a flood can write.
      if (user) this.activity.recordApart(user.id, 'signin.failed', meta);
      throw new InvalidCredentialsError();
    }
    await this.limits.giveBack('loginPerAccount', key);
    if (this.config.emailConfirmationRequired && !user.emailConfirmed) {
      this.events.record('auth.signin.unconfirmed', { userId: user.id, ip: meta.ip });
      throw new EmailNotConfirmedError();
    }
    // Hashed before the transaction opens: argon2 must not hold a connection.
    const rehashed = this.hasher.needsRehash(user.passwordHash!) ? await this.hasher.hash(password) : undefined;
    return this.signInAs(user, meta, rehashed);
  }

  /**
   * Opens a session for a user whom a first factor has just proven (a password, or an identity
   * provider), storing `rehashed` as the password hash when given. Every way of signing in ends
   * here, so whatever a sign-in must pass besides (a second factor) is decided in one place.
   * `method` is remembered by the session, with the time, for re-authentication
   * (assertRecentAuthentication).
   */
  async signInAs(user: User, meta: SessionMeta, rehashed?: string, method: SignInMethod = 'password'): Promise<SignedIn> {
    // What the first factor proved, as it read the account. A reset, password change, undo or
    // handover that committed since (argon2 takes a while, and can be made to) ends every session:
    // the sign-in must not open one after it, so this is checked again under the row lock.
    const proven = { userId: user.id, passwordHash: user.passwordHash, emailCanonical: user.emailCanonical };
    if (user.mfaEnabledAt) {
      // The first factor held: no session yet, only a challenge for the second (MfaRequiredError),
      // which remembers that factor for the session the second step opens.
      const mfaToken = await this.em.transactional(async (em) => {
        const fresh = await em.getRepository(User).findByIdLocked(user.id);
        if (!fresh || fresh.passwordHash !== proven.passwordHash || fresh.emailCanonical !== proven.emailCanonical) throw new InvalidCredentialsError();
        if (rehashed !== undefined) fresh.passwordHash = rehashed;
        return this.mfa.issueChallenge(em, user.id, method);
      });
      this.events.record('auth.signin.mfa_required', { userId: user.id, ip: meta.ip });
      throw new MfaRequiredError(mfaToken);
    }
    // The re-check, the rehash, the session, its first refresh token and the activity row: one
    // statement (startProven). It also refuses when MFA was turned on meanwhile.
    const opened = await this.sessions.startProven(proven, meta, method, rehashed, this.activity.insertFrom('holder', 'signin.succeeded', meta));
    if (!opened) throw new InvalidCredentialsError();
    this.events.record('auth.signin.succeeded', { userId: user.id, sessionId: opened.sessionId, ip: meta.ip });
    return this.signedIn(toUserView(user), opened.sessionId, opened.refreshToken);
  }

  /**
   * The second step of a sign-in that signInAs answered with MfaRequiredError: the challenge's
   * token and a TOTP code or a recovery code. Each call counts one of the challenge's 5 attempts
   * (committed before the code is looked at); a wrong code also counts against the account's limit
   * and is recorded in its activity. The challenge, the code and the new session commit together,
   * so a code that signs in once never signs in again. Throws InvalidMfaTokenError,
   * InvalidMfaCodeError or TooManyRequestsError.
   */
  async completeMfaSignIn(mfaToken: string, proof: MfaProof, meta: SessionMeta): Promise<SignedIn> {
    const challenge = await this.mfa.attemptChallenge(this.em, mfaToken);
    try {
      return await this.mfa.guardCodes(challenge.userId, async () => {
        const user = await this.em.findOne(User, challenge.userId);
        if (!user?.mfaEnabledAt) throw new InvalidMfaTokenError();
        return this.openSession(user, meta, challenge.signInMethod, async (em) => {
          // The account row held: MFA turned off (or a new password set) meanwhile cannot race this.
          const fresh = await em.getRepository(User).findByIdLocked(user.id);
          if (!fresh?.mfaEnabledAt) throw new InvalidMfaTokenError();
          await this.mfa.spendChallenge(em, challenge.id);
          const spent = await this.mfa.spendProof(em, user.id, proof, meta);
          if (spent.kind === 'recovery') this.outbox.record(em, 'mfa.recovery-code-used', () => ({ ...recipient(fresh), remaining: spent.remaining }));
        });
      });
    } catch (error) {
      if (error instanceof InvalidMfaCodeError) {
        this.events.record('auth.signin.mfa_failed', { userId: challenge.userId, ip: meta.ip });
        await this.em.transactional((em) => this.activity.recordIfAccount(em, challenge.userId, 'signin.mfa_failed', meta));
      }
      throw error;
    }
  }

  async refresh(refreshToken: string, meta: SessionMeta): Promise<SignedIn> {
    const rotated = await this.sessions.rotate(refreshToken, meta);
    return this.signedIn(userViewOfRow(rotated.user), rotated.sessionId, rotated.refreshToken);
  }

  /** Ends the session of a refresh token; its owner's activity records it (session.revoked). */
  async logout(refreshToken: string, meta: SessionMeta = {}): Promise<void> {
    await this.em.transactional(async (em) => {
      const userId = await this.sessions.revokeByRefreshToken(em, refreshToken);
      if (userId) this.activity.record(em, userId, 'session.revoked', meta);
    });
  }

  /**
   * What the page of a confirmation link shows: whether confirming asks for a password. Spends
   * nothing; throws InvalidTokenError for a dead link.
   */
  async inspectConfirmation(token: string): Promise<{ choosePassword: boolean }> {
    const { carriesPassword } = await this.tokens.peek(this.em, TokenPurpose.EmailConfirmation, token);
    return { choosePassword: !carriesPassword };
  }

  /**
   * Confirms the address and activates the password of the registration that produced the link, or
   * the one chosen here for a link that carries none (a resend or a repeat registration). Whoever
   * claimed the address before without reading its inbox loses the password and every session they
   * opened (confirmation may have been off then); choosing the password the account already has
   * keeps its sessions. A chosen password is checked before the token is spent, so a refused one
   * leaves the link usable. An address confirmed meanwhile (by a reset) keeps its password.
   */
  async confirmEmail(token: string, password?: string): Promise<UserView> {
    const { user: holder, carriesPassword } = await this.tokens.peek(this.em, TokenPurpose.EmailConfirmation, token);
    if (carriesPassword && password !== undefined) throw new ConfirmationPasswordError('not_allowed');
    if (!carriesPassword && password === undefined) throw new ConfirmationPasswordError('required');
    // argon2 runs before the transaction: no connection or row lock is held while it works.
    const currentHash = holder.passwordHash;
    let keepsCurrent = false;
    let chosenHash: string | null = null;
    if (password !== undefined) {
      this.policy.assertAcceptable(password, holder);
      keepsCurrent = currentHash !== null && (await this.hasher.verify(currentHash, password));
      chosenHash = await this.hasher.hash(password);
    }
    return this.em.transactional(async (em) => {
      // The account first, then the token (the order a password change takes them in: no deadlock);
      // locked so no concurrent flow overwrites the password this confirmation activates.
      const user = await em.getRepository(User).findByIdLocked(holder.id);
      const spent = await this.tokens.consume(em, TokenPurpose.EmailConfirmation, token);
      if (!user || spent.userId !== user.id) throw new InvalidTokenError();
      // The link lost its password since it was read (a capped repeat registration): ask for one.
      if (spent.passwordHash === null && password === undefined) throw new ConfirmationPasswordError('required');
      if (!user.emailConfirmed) {
        // A change of address asked for by a claimant must not move the account once it is confirmed.
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailChange);
        // Only a password that changes hands ends the sessions: re-entering one's own keeps them.
        const passwordHash = spent.passwordHash ?? (keepsCurrent && user.passwordHash === currentHash ? currentHash : chosenHash!);
        if (passwordHash !== user.passwordHash) {
          user.passwordHash = passwordHash;
          await this.handover.forgetPreviousHolder(em, user, {});
          await this.sessions.revokeAll(em, user.id);
        }
        user.emailConfirmedAt = new Date();
      }
      return toUserView(user);
    });
  }

  /**
   * Sends a fresh link to an unconfirmed account; confirmed and unknown addresses get nothing. The
   * link carries no password, whoever asks (a session may be a rival claimant's): confirming
   * chooses one, and choosing the current one keeps the sessions.
   */
  async resendConfirmation(email: string): Promise<void> {
    if (!(await this.mailAllowed(email))) return;
    await this.em.transactional(async (em) => {
      const user = await em.getRepository(User).findByEmailHeld(email);
      if (!user || user.emailConfirmed) return;
      await this.requestConfirmation(em, user);
    });
  }

  async forgotPassword(email: string): Promise<void> {
    if (!(await this.mailAllowed(email))) return;
    // The hottest mailing path, so no transaction: one read, then ONE statement that supersedes the
    // older links, stores the new one and records the event that mails it (see issueAlone).
    const user = await this.users.findByEmail(email);
    if (!user) return;
    const issued = await this.tokens.issueAlone(user, TokenPurpose.PasswordReset, this.config.resetTokenTtlMs, (token) =>
      this.outbox.insertFrom('holder', 'password.reset-requested', ({ seal }) => ({ ...recipient(user), resetToken: seal(token) })),
    );
    if (issued) this.outbox.committed();
  }

  /**
   * Sets a new password from an emailed token. The password is checked before the token is spent,
   * so a rejected password leaves the link usable. Ends every session and confirms the address.
   */
  async resetPassword(token: string, password: string, meta: SessionMeta = {}): Promise<void> {
    const { user: holder } = await this.tokens.peek(this.em, TokenPurpose.PasswordReset, token);
    this.policy.assertAcceptable(password, holder);
    const passwordHash = await this.hasher.hash(password);
    await this.em.transactional(async (em) => {
      // The account first, then the token, locked like every flow that sets a password.
      const user = await em.getRepository(User).findByIdLocked(holder.id);
      const { userId } = await this.tokens.consume(em, TokenPurpose.PasswordReset, token);
      if (!user || userId !== user.id) throw new InvalidTokenError();
      // A never-confirmed account was a claim: whoever reads the inbox takes it as it was first made.
      if (!user.emailConfirmed) await this.handover.forgetPreviousHolder(em, user, meta);
      user.passwordHash = passwordHash;
      if (!user.emailConfirmedAt) {
        user.emailConfirmedAt = new Date();
        // A factor from before the address was proven may be a claimant's (SPEC §11 exception).
        await this.mfa.removeUnproven(em, user, meta);
      }
      await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.PasswordReset);
      // The reset confirmed the address; a pending link must not bring an earlier registrant's password back.
      await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailConfirmation);
      // A pending email change was asked for with the password this reset replaces.
      await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailChange);
      await this.sessions.revokeAll(em, user.id);
      this.activity.record(em, user.id, 'password.reset', meta);
      // MFA of a confirmed address stays on (SPEC §11); a sign-in that was waiting for its code must start over.
      await this.mfa.voidChallenges(em, user.id);
      this.outbox.record(em, 'password.changed', () => ({ ...recipient(user), via: 'reset' as const }));
    });
    // A throttled owner recovers through the emailed link: the reset lifts the sign-in limits
    // (the counts of the owner's own sources start afresh with the new password hash).
    await this.limits.clear('loginPerAccount', canonicalEmail(holder.email));
    await this.limits.clear('currentPasswordPerAccount', holder.id);
    await this.limits.clear('mfaPerAccount', holder.id);
    this.events.record('auth.password.changed', { userId: holder.id, via: 'reset' });
  }

  /** Changes the password of a signed-in user; every other session of theirs ends. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, meta: SessionMeta = {}): Promise<void> {
    const user = await this.em.findOneOrFail(User, principal.userId);
    const verifiedHash = user.passwordHash;
    await this.assertCurrentPassword(user, currentPassword);
    this.policy.assertAcceptable(newPassword, user);
    const passwordHash = await this.hasher.hash(newPassword);
    await this.em.transactional(async (em) => {
      // Locked, like a confirmation or a reset, so neither overwrites the password the other sets;
      // and what was checked must still hold: this session alive, the password the one verified.
      const fresh = await em.getRepository(User).findByIdLocked(user.id);
      const stillValid = fresh?.passwordHash === verifiedHash && (await this.sessions.isAlive(em, principal.sessionId, user.id));
      if (!fresh || !stillValid) throw new AuthenticationRequiredError();
      fresh.passwordHash = passwordHash;
      await this.tokens.revokeOutstanding(em, fresh.id, TokenPurpose.PasswordReset);
      // A pending confirmation link must not bring a password back after this one.
      await this.tokens.revokeOutstanding(em, fresh.id, TokenPurpose.EmailConfirmation);
      // Likewise a pending email change, asked for with the old password.
      await this.tokens.revokeOutstanding(em, fresh.id, TokenPurpose.EmailChange);
      await this.sessions.revokeAll(em, fresh.id, principal.sessionId);
      this.activity.record(em, fresh.id, 'password.changed', meta);
      await this.mfa.voidChallenges(em, fresh.id);
      this.outbox.record(em, 'password.changed', () => ({ ...recipient(fresh), via: 'change' as const }));
    });
    this.events.record('auth.password.changed', { userId: user.id, via: 'change', sessionId: principal.sessionId });
  }

  /**
   * Checks the password a signed-in user re-enters to confirm a sensitive change (password, and
   * later email change and account deletion). Wrong guesses count per account, taken before the
   * hash is verified and given back when it was right; a count of its own, so strangers failing to
   * sign in cannot keep the owner from changing their password. Throws WrongCurrentPasswordError,
   * or TooManyRequestsError once the guesses are used up.
   */
  async assertCurrentPassword(user: User, password: string): Promise<void> {
    await this.limits.guard(
      'currentPasswordPerAccount',
      user.id,
      async () => {
        // An account without a password has none to match (it proves itself by a provider sign-in).
        const valid = user.passwordHash ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyDummy(password);
        if (!valid) throw new WrongCurrentPasswordError();
      },
      (error) => error instanceof WrongCurrentPasswordError,
    );
  }

  /**
   * The one re-authentication check for sensitive changes of a signed-in user (SPEC §10-§12),
   * wherever the API asks for `currentPassword`:
   * - an account with a password must give it (`password`; missing counts as wrong): see
   *   assertCurrentPassword (WrongCurrentPasswordError, TooManyRequestsError);
   * - an account without one (created through an identity provider) proves itself instead by the
   *   session it calls from: opened by a sign-in through a provider within the last 5 minutes,
   *   else ReauthenticationRequiredError (the client sends the user through the provider again).
   * Returns the user, as read for the check.
   */
  async assertRecentAuthentication(principal: Principal, password?: string): Promise<User> {
    const user = await this.em.findOne(User, principal.userId);
    if (!user) throw new AuthenticationRequiredError();
    if (user.passwordHash !== null) {
      await this.assertCurrentPassword(user, password ?? '');
      return user;
    }
    const session = await this.em.findOne(Session, { id: principal.sessionId, user: principal.userId });
    const fresh = session?.signInMethod === 'provider' && Date.now() - session.signedInAt.getTime() <= REAUTHENTICATION_WINDOW_MS;
    if (!fresh) throw new ReauthenticationRequiredError();
    return user;
  }

  /** The caller's live sessions, most recently used first. */
  sessionsOf(principal: Principal): Promise<SessionView[]> {
    return this.sessions.list(this.em, principal.userId, principal.sessionId);
  }

  /** Ends one session of the caller's (SessionNotFoundError when it is not theirs or already over). */
  async signOutSession(principal: Principal, sessionId: string, meta: SessionMeta = {}): Promise<void> {
    await this.em.transactional(async (em) => {
      await this.sessions.revoke(em, principal.userId, sessionId);
      this.activity.record(em, principal.userId, 'session.revoked', meta);
    });
  }

  /** Ends every session of the caller, the current one included. */
  async signOutEverywhere(principal: Principal, meta: SessionMeta = {}): Promise<void> {
    const ended = await this.em.transactional(async (em) => {
      this.activity.record(em, principal.userId, 'sessions.revoked_all', meta);
      return this.sessions.revokeAll(em, principal.userId);
    });
    this.events.record('auth.session.revoked', { userId: principal.userId, scope: 'all', count: ended });
  }

  /**
   * The key a failed sign-in counts under in the per-account limit. A source (IPv4 address, IPv6
   * /64) with a live session of this account has a count of its own, so a flood from elsewhere
   * cannot lock the owner out where they are signed in; every other source, and every unknown
   * address, shares the account's count. The addresses of its live sessions come with the account's
   * own read (accountForSignIn), one statement for known and unknown addresses alike.
   */
  private signInKey(account: string, user: User | null, liveSessionIps: string[], ip: string | undefined): string {
    if (!user || ip === undefined) return account;
    const source = clientSource(ip);
    if (!liveSessionIps.some((used) => clientSource(used) === source)) return account;
    // No address holds a line feed, so this never names an account's shared count. The password
    // hash (a new salt with every new password) makes a reset or change start this count afresh.
    return [user.id, source, user.passwordHash].join('\n');
  }

  /** Counts an email triggered for `email`; false once the per-address cap is reached. */
  private async mailAllowed(email: string): Promise<boolean> {
    const account = canonicalEmail(email);
    const allowed = await this.limits.count('mailPerAddress', account);
    if (!allowed) this.events.record('auth.mail.capped', { email: maskEmail(account) });
    return allowed;
  }

  /**
   * A confirmed address gets a notice and keeps its password. An unconfirmed one is only a claim,
   * and a repeat registration cannot tell the owner from someone racing them for the address:
   * - its link carries no password (whoever confirms chooses one);
   * - when the per-address mail cap holds that link back, the older links stop carrying their
   *   passwords (they still confirm, asking for one), so no earlier claimant's password can be
   *   activated by a link the owner takes for theirs, and the owner's own link keeps working;
   * - sessions opened before (while confirmation was off) end with a repeat registration that
   *   mails (the cap bounds how often); the confirmation ends them anyway when the password
   *   changes hands.
   * The account's own password stays the first registrant's, so signing in tells nobody whether
   * someone registered since.
   */
  private async noticeRepeatedRegistration(em: EntityManager, existing: User, mailAllowed: boolean): Promise<void> {
    if (existing.emailConfirmed) {
      if (mailAllowed) this.outbox.record(em, 'user.registration-attempted', () => recipient(existing));
      return;
    }
    // A change of address the claimant asked for must not outlive their claim being contested.
    await this.tokens.revokeOutstanding(em, existing.id, TokenPurpose.EmailChange);
    if (mailAllowed) {
      // Tokens before sessions, the order every other flow takes them in.
      await this.requestConfirmation(em, existing);
      await this.sessions.revokeAll(em, existing.id);
    } else {
      await this.tokens.forgetPasswords(em, existing.id, TokenPurpose.EmailConfirmation);
    }
  }

  /**
   * Mails a fresh link that carries no password: whoever confirms chooses one, and the email says
   * so. Only a first registration's link (in register) carries its password.
   */
  private async requestConfirmation(em: EntityManager, user: User): Promise<void> {
    const token = await this.tokens.issue(em, user, TokenPurpose.EmailConfirmation, this.config.confirmationTokenTtlMs);
    this.outbox.record(em, 'email.confirmation-requested', ({ seal }) => ({
      ...recipient(user),
      confirmationToken: seal(token),
      choosePassword: true,
    }));
  }

  /**
   * Opens the session of an MFA sign-in's second step, in one unit of work with `before` (which may
   * refuse it): the session and anything recorded with it commit together. A sign-in without MFA
   * opens its session in one statement instead (SessionsService.startProven).
   */
  private async openSession(
    user: User,
    meta: SessionMeta,
    method: SignInMethod,
    before: (em: EntityManager) => Promise<unknown>,
  ): Promise<SignedIn> {
    let started: { session: Session; refreshToken: string };
    try {
      started = await this.em.transactional(async (em) => {
        await before(em);
        this.activity.record(em, user.id, 'signin.succeeded', meta);
        return this.sessions.start(em, user, meta, method);
      });
    } catch (error) {
      // The account was deleted while its first factor was being checked: there is no one to sign in.
      if (error instanceof ForeignKeyConstraintViolationException) throw new InvalidCredentialsError();
      throw error;
    }
    const { session, refreshToken } = started;
    this.events.record('auth.signin.succeeded', { userId: user.id, sessionId: session.id, ip: meta.ip });
    return this.signedIn(toUserView(user), session.id, refreshToken);
  }

  private signedIn(user: UserView, sessionId: string, refreshToken: string): SignedIn {
    return {
      accessToken: this.accessTokens.sign({ userId: user.id, sessionId }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokens.lifetimeSeconds,
      user,
    };
  }
}
