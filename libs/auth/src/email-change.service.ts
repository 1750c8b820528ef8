import { randomBytes } from 'node:crypto';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { maskEmail } from '@accounts/mail/contract';
import { OutboxService } from '@accounts/mail/outbox';
import { InvalidTokenError, TokenPurpose, TokensService } from '@accounts/tokens';
import { AccountActivityService, canonicalEmail, normalizeEmail, toUserView, User, type ClientMeta, type UserView } from '@accounts/users';
import type { Principal } from './access-token.service';
import { AccountDeletionService } from './account-deletion.service';
import { AccountHandover } from './account-handover.service';
import { AuthenticationRequiredError, EmailTakenError, SameEmailError, TooManyRequestsError, WrongCurrentPasswordError } from './auth.errors';
import { AuthService, recipient } from './auth.service';
import { ReauthenticationRequiredError } from './oidc.errors';
import { PasswordHasher } from './password.hasher';
import { RateLimits } from './rate-limits.service';
import { SecurityEvents } from './security-events.service';
import { SessionsService } from './sessions.service';

/**
 * Email change with undo (SPEC §10). The new address proves itself with a link; the old one is told
 * and can undo for EMAIL_CHANGE_UNDO_TTL, which gives the account back to whoever reads it.
 */
@Injectable()
export class EmailChangeService {
  constructor(
    private readonly em: EntityManager,
    private readonly auth: AuthService,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly outbox: OutboxService,
    private readonly activity: AccountActivityService,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
    private readonly handover: AccountHandover,
    private readonly deletion: AccountDeletionService,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  /**
   * Asks to move the caller's account to `newEmail`. Free and taken addresses answer alike: a free
   * one gets a link, the owner of a taken one a notice, and both do the same work (the outstanding
   * link is superseded either way, the activity record says "requested" either way), so neither the
   * answer, its timing, the earlier link nor the activity list tells them apart. Counted per account
   * before the work (a wrong password gives its point back: it has a count of its own), and per new
   * address like every triggered mail: above that cap nothing is sent, and the answer is the same.
   */
  async request(principal: Principal, newEmail: string, currentPassword: string | undefined, client: ClientMeta): Promise<void> {
    const user = await this.em.findOneOrFail(User, principal.userId);
    const target = canonicalEmail(newEmail);
    if (target === user.emailCanonical) throw new SameEmailError();
    const verifiedHash = user.passwordHash;
    await this.limits.consume('emailChangePerAccount', user.id);
    try {
      await this.auth.assertRecentAuthentication(principal, currentPassword);
    } catch (error) {
      // Refused by the password's own count too: guesses must not use up the owner's change budget.
      if (error instanceof WrongCurrentPasswordError || error instanceof ReauthenticationRequiredError || error instanceof TooManyRequestsError) {
        await this.limits.giveBack('emailChangePerAccount', user.id);
      }
      throw error;
    }
    const mailAllowed = await this.limits.count('mailPerAddress', target);
    if (!mailAllowed) this.events.record('auth.mail.capped', { email: maskEmail(target) });
    await this.em.transactional(async (em) => {
      // Locked, so parallel requests supersede each other's links in turn; and what was checked
      // must still hold: this session alive, the password the one verified (a reset or undo that
      // committed meanwhile wins).
      const fresh = await em.getRepository(User).findByIdLocked(user.id);
      const stillValid = fresh?.passwordHash === verifiedHash && (await this.sessions.isAlive(em, principal.sessionId, user.id));
      if (!fresh || !stillValid) throw new AuthenticationRequiredError();
      this.activity.record(em, user.id, 'email.change_requested', client);
      // Capped: the link already sent stays the one that works.
      if (!mailAllowed) return;
      const owner = await em.getRepository(User).findByEmailHeld(target);
      if (owner) {
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailChange);
        this.outbox.record(em, 'email.change-attempted', () => recipient(owner));
        return;
      }
      const address = normalizeEmail(newEmail);
      // Bound to the password it was asked with: once the password changes (reset, change, a
      // claim confirmed by its inbox, undo) the link is dead, whichever flow changed it.
      const token = await this.tokens.issue(em, user, TokenPurpose.EmailChange, this.config.emailChangeTokenTtlMs, verifiedHash, address);
      // The new address has proven nothing yet: the account's name stays out of its inbox.
      this.outbox.record(em, 'email.change-requested', ({ seal }) => ({ v: 1 as const, userId: user.id, email: address, name: null, changeToken: seal(token) }));
    });
    this.events.record('auth.email.change_requested', { userId: user.id });
  }

  /** Whether a change or undo link is live, for its page; spends nothing (InvalidTokenError if not). */
  async inspect(purpose: TokenPurpose.EmailChange | TokenPurpose.EmailChangeUndo, token: string): Promise<void> {
    await this.tokens.peek(this.em, purpose, token);
  }

  /**
   * Switches the account to the address its link was mailed to (now confirmed), keeping the password
   * and every session, and mails the old address an undo link. An address taken meanwhile answers
   * EmailTakenError by the unique index (no check-then-write window) and leaves the link unspent.
   */
  async confirm(token: string, client: ClientMeta): Promise<UserView> {
    const { user: holder } = await this.tokens.peek(this.em, TokenPurpose.EmailChange, token);
    // A never-confirmed old address may be anyone's: the notice there counts under its mail cap,
    // or registering it, moving away and registering again would mail it without bound.
    const oldAddressMailAllowed = holder.emailConfirmed || (await this.limits.count('mailPerAddress', holder.emailCanonical));
    if (!oldAddressMailAllowed) this.events.record('auth.mail.capped', { email: maskEmail(holder.emailCanonical) });
    let view: UserView;
    try {
      view = await this.em.transactional(async (em) => {
        // The account first, then the token, like every flow that changes the account.
        const user = await em.getRepository(User).findByIdLocked(holder.id);
        const spent = await this.tokens.consume(em, TokenPurpose.EmailChange, token);
        if (!user || spent.userId !== user.id || spent.email === null) throw new InvalidTokenError();
        // Asked for with a password the account no longer has (or by a claim since handed over).
        if (spent.passwordHash !== user.passwordHash) throw new InvalidTokenError();
        const old = { email: user.email, confirmed: user.emailConfirmed };
        user.email = normalizeEmail(spent.email);
        user.emailCanonical = canonicalEmail(spent.email);
        user.emailConfirmedAt = new Date();
        // Links mailed to the old address must not act on the account any more (the undo link excepted).
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.PasswordReset);
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailConfirmation);
        // Any other change link, however it came to exist: one change per proof of the password.
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailChange);
        if (old.confirmed || oldAddressMailAllowed) {
          const undo = await this.tokens.issue(em, user, TokenPurpose.EmailChangeUndo, this.config.emailChangeUndoTtlMs, null, old.email, old.confirmed);
          this.outbox.record(em, 'email.changed', ({ seal }) => ({
            v: 1 as const,
            userId: user.id,
            email: old.email,
            name: old.confirmed ? user.name : null,
            undoToken: seal(undo),
          }));
        }
        this.activity.record(em, user.id, 'email.changed', client);
        return toUserView(user);
      });
    } catch (error) {
      // Registered meanwhile: the unique index decides, so there is no check-then-write window.
      if (error instanceof UniqueConstraintViolationException) throw new EmailTakenError();
      throw error;
    }
    this.events.record('auth.email.changed', { userId: holder.id });
    return view;
  }

  /**
   * Gives the account back to whoever reads the old address: restores it (confirmed, since the link
   * reached it), ends every session, spends every outstanding token (undo links of earlier changes
   * excepted, so an undo of a later change cannot cancel them), makes the password unusable and
   * mails a reset link there. When the old address was registered meanwhile by an account that never
   * confirmed it (a claim, possibly made to block this undo), the claim is deleted; when a confirmed
   * account holds it, its owner reads that inbox too, so EmailTakenError and nothing changes.
   */
  async undo(token: string, client: ClientMeta): Promise<void> {
    const { user: holder } = await this.tokens.peek(this.em, TokenPurpose.EmailChangeUndo, token);
    // argon2 outside the transaction; the hash of 32 random bytes nobody knows.
    const unusableHash = await this.hasher.hash(randomBytes(32).toString('base64url'));
    let deletedClaimant: string | null = null;
    try {
      await this.em.transactional(async (em) => {
        const user = await em.getRepository(User).findByIdLocked(holder.id);
        const spent = await this.tokens.consume(em, TokenPurpose.EmailChangeUndo, token);
        if (!user || spent.userId !== user.id || spent.email === null) throw new InvalidTokenError();
        const restored = canonicalEmail(spent.email);
        if (restored !== user.emailCanonical) {
          const held = await em.getRepository(User).findByEmail(restored);
          const claimant = held ? await em.getRepository(User).findByIdLocked(held.id) : null;
          if (claimant?.emailConfirmed) throw new EmailTakenError();
          // Deleted like any account (activity anonymised, its mail forgotten), without the notice:
          // its address is the one this undo mails.
          if (claimant) {
            await this.deletion.erase(em, claimant, { notify: false });
            deletedClaimant = claimant.id;
          }
        }
        user.email = normalizeEmail(spent.email);
        user.emailCanonical = restored;
        user.emailConfirmedAt = new Date();
        user.passwordHash = unusableHash;
        await this.tokens.revokeAll(em, user.id, spent.issueOrder);
        // Whoever held the session may have added a second factor or linked a provider of theirs.
        await this.handover.forgetPreviousHolder(em, user, client);
        await this.sessions.revokeAll(em, user.id);
        const reset = await this.tokens.issue(em, user, TokenPurpose.PasswordReset, this.config.resetTokenTtlMs);
        // A never-confirmed old address never vouched for the name (a pre-hijacker's may be on it).
        const name = spent.emailConfirmed ? user.name : null;
        this.outbox.record(em, 'password.reset-requested', ({ seal }) => ({ ...recipient(user), name, resetToken: seal(reset) }));
        this.activity.record(em, user.id, 'email.change_undone', client);
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new EmailTakenError();
      throw error;
    }
    if (deletedClaimant) this.deletion.forgetMailSoon(deletedClaimant);
    this.events.record('auth.email.change_undone', { userId: holder.id });
  }
}
