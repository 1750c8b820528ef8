import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { maskEmail } from '@accounts/mail/contract';
import { OutboxService } from '@accounts/mail/outbox';
import { TokenPurpose, TokensService } from '@accounts/tokens';
import { AccountActivityService, canonicalEmail, type ClientMeta, User } from '@accounts/users';
import { AccountHandover } from './account-handover.service';
import { Identity } from './identity.entity';
import { OidcClient, type ProviderClaims } from './oidc-client.service';
import { IdentityNotFoundError, LastSignInMethodError, OidcSignInFailedError } from './oidc.errors';
import { SecurityEvents } from './security-events.service';
import { SessionsService } from './sessions.service';

export interface IdentityView {
  id: string;
  issuer: string;
  /** The configured provider of that issuer (its id and button label), null if no longer configured. */
  provider: { id: string; label: string } | null;
  /** The address the provider asserted when it was linked. */
  email: string | null;
  createdAt: string;
}

/** What a provider sign-in did to the accounts: who it signs in, and whether that is news to them. */
export interface JoinedAccount {
  user: User;
  outcome: 'signed_in' | 'linked' | 'taken_over' | 'created';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_MAX = 100;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A provider's `name` claim, if it is one our own rules would accept (SPEC §5). */
function acceptableName(name: string | null): string | null {
  const trimmed = name?.trim();
  return trimmed && trimmed.length <= NAME_MAX && !CONTROL.test(trimmed) ? trimmed : null;
}

/** A provider's address, if it is one we could store and mail (≤ 254 characters, one `@`, no CR/LF/NUL). */
function acceptableEmail(email: string | null): string | null {
  const trimmed = email?.trim().normalize('NFC');
  if (!trimmed || trimmed.length > 254 || CONTROL.test(trimmed) || /\s/.test(trimmed)) return null;
  const at = trimmed.lastIndexOf('@');
  return at > 0 && at < trimmed.length - 1 && trimmed.indexOf('@') === at ? trimmed : null;
}

/**
 * Links between accounts and identities at external OpenID Providers, and the joining rules of
 * SPEC §12, which defeat account pre-hijacking both ways:
 * - an identity (issuer + subject) signs in the account it is linked to;
 * - otherwise only an address the provider marks `email_verified` joins an account: a confirmed
 *   account gets the identity linked and a notice mailed; an unconfirmed one is only a claim (its
 *   registrant never proved the inbox), so it is taken over: its password is discarded, its
 *   sessions end, its outstanding links are spent, its second factor and other identities go,
 *   and the address becomes confirmed;
 * - no account with that address: one is created, confirmed and without a password;
 * - without a verified address nothing is joined or created.
 */
@Injectable()
export class IdentitiesService {
  constructor(
    private readonly em: EntityManager,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly outbox: OutboxService,
    private readonly activity: AccountActivityService,
    private readonly events: SecurityEvents,
    private readonly oidc: OidcClient,
    private readonly handover: AccountHandover,
  ) {}

  /**
   * The account a verified provider sign-in signs in to, after applying the joining rules in one
   * transaction. `providerLabel` names the provider in the notice mail. Throws
   * OidcSignInFailedError('email_not_verified') when the rules allow no account.
   */
  async join(claims: ProviderClaims, providerLabel: string, client: ClientMeta): Promise<JoinedAccount> {
    try {
      return await this.joinOnce(claims, providerLabel, client);
    } catch (error) {
      // A parallel first sign-in (same identity or same new address) won a unique index: the
      // second attempt finds what it created.
      if (error instanceof UniqueConstraintViolationException) return this.joinOnce(claims, providerLabel, client);
      throw error;
    }
  }

  private joinOnce(claims: ProviderClaims, providerLabel: string, client: ClientMeta): Promise<JoinedAccount> {
    return this.em.transactional(async (em) => {
      const linked = await em.findOne(Identity, { issuer: claims.issuer, subject: claims.subject }, { populate: ['user'] });
      if (linked) return { user: linked.user.getEntity(), outcome: 'signed_in' as const };

      const email = claims.emailVerified ? acceptableEmail(claims.email) : null;
      if (!email) {
        this.events.record('auth.oidc.failed', { issuer: claims.issuer, reason: 'email_not_verified' });
        throw new OidcSignInFailedError('email_not_verified');
      }
      const held = await em.getRepository(User).findByEmailHeld(email);
      const existing = held ? await em.getRepository(User).findByIdLocked(held.id) : null;
      let user: User;
      let outcome: JoinedAccount['outcome'];
      if (!existing) {
        user = new User(email, null, acceptableName(claims.name));
        user.emailConfirmedAt = new Date();
        em.persist(user);
        outcome = 'created';
      } else if (existing.emailConfirmed) {
        user = existing;
        outcome = 'linked';
        this.outbox.record(em, 'identity.linked', () => ({ v: 1 as const, userId: user.id, email: user.email, name: user.name, provider: providerLabel }));
      } else {
        // An unconfirmed account is a claim on the address by someone who never read its inbox;
        // the provider just vouched for whoever did. Nothing of the claimant's survives.
        user = existing;
        outcome = 'taken_over';
        user.passwordHash = null;
        user.name = acceptableName(claims.name);
        user.emailConfirmedAt = new Date();
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailConfirmation);
        await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.PasswordReset);
        // Its pending email change, second factor and linked identities were the claimant's.
        await this.handover.forgetPreviousHolder(em, user, client);
        await this.sessions.revokeAll(em, user.id);
      }
      em.persist(new Identity(user, claims.issuer, claims.subject, email));
      // The row must exist before the activity and outbox rows that name it are flushed.
      await em.flush();
      this.activity.record(em, user.id, 'identity.linked', client);
      this.events.record('auth.oidc.linked', { userId: user.id, issuer: claims.issuer, outcome, email: maskEmail(canonicalEmail(email)) });
      return { user, outcome };
    });
  }

  /** The caller's identities, oldest first. */
  async list(userId: string): Promise<IdentityView[]> {
    const identities = await this.em.find(Identity, { user: userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return identities.map((identity) => ({
      id: identity.id,
      issuer: identity.issuer,
      provider: this.oidc.providerOf(identity.issuer) ?? null,
      email: identity.email,
      createdAt: identity.createdAt.toISOString(),
    }));
  }

  /**
   * Unlinks one of the caller's identities, unless it is the account's last way to sign in (no
   * password and no other identity of a configured provider: one whose provider was removed from
   * OIDC_PROVIDERS signs nobody in, and removing it takes no way away). The account row is locked,
   * so two parallel unlinks cannot each leave the other as the last one and both succeed.
   */
  async unlink(userId: string, identityId: string, client: ClientMeta): Promise<void> {
    // Any string may come from the URL; only a UUID can name an identity.
    if (!UUID.test(identityId)) throw new IdentityNotFoundError();
    await this.em.transactional(async (em) => {
      const user = await em.getRepository(User).findByIdLocked(userId);
      const identity = user ? await em.findOne(Identity, { id: identityId, user: userId }) : null;
      if (!user || !identity) throw new IdentityNotFoundError();
      if (user.passwordHash === null && this.signsIn(identity)) {
        const others = await em.find(Identity, { user: userId, id: { $ne: identityId } });
        if (!others.some((other) => this.signsIn(other))) throw new LastSignInMethodError();
      }
      em.remove(identity);
      this.activity.record(em, userId, 'identity.unlinked', client);
    });
    this.events.record('auth.oidc.unlinked', { userId });
  }

  /** Whether an identity can still sign in: its issuer is one of the configured providers'. */
  private signsIn(identity: Identity): boolean {
    return this.oidc.providerOf(identity.issuer) !== undefined;
  }
}
