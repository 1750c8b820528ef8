import type { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { TokenPurpose, TokensService } from '@accounts/tokens';
import { AccountActivityService, type ClientMeta, User } from '@accounts/users';
import { Identity } from './identity.entity';
import { MfaFactor } from './mfa/mfa-factor.service';

/**
 * What goes when an account changes hands: a claim taken by whoever proved its inbox (confirmation
 * with a new password, a reset of a never-confirmed account, a provider's verified address), or an
 * account an undo gives back to its old inbox. Whatever the previous holder set up must not
 * survive: a pending email change (asked for by them), a second factor (theirs: it would lock the
 * new holder out, or let the previous one pass), linked identities (their sign-ins). In the
 * caller's transaction, with the account row locked; the activity records it. No mail: the new
 * holder never set these up, and the previous one is not the address's owner.
 */
@Injectable()
export class AccountHandover {
  constructor(
    private readonly tokens: TokensService,
    private readonly mfa: MfaFactor,
    private readonly activity: AccountActivityService,
  ) {}

  async forgetPreviousHolder(em: EntityManager, user: User, client: ClientMeta): Promise<void> {
    await this.tokens.revokeOutstanding(em, user.id, TokenPurpose.EmailChange);
    // A pending (not yet enabled) secret goes too; the activity names only a factor that was on.
    await this.mfa.remove(em, user.id);
    if (user.mfaEnabledAt) {
      user.mfaEnabledAt = null;
      this.activity.record(em, user.id, 'mfa.disabled', client);
    }
    const unlinked = await em.nativeDelete(Identity, { user: user.id });
    if (unlinked > 0) this.activity.record(em, user.id, 'identity.unlinked', client);
  }
}
