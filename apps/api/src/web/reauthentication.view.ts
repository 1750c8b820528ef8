import { Injectable } from '@nestjs/common';
import { IdentitiesService, REAUTHENTICATION_WINDOW_MS, type BrowserSession } from '@accounts/auth';
import { field, type Form } from './page-form.util';

/** Said when a passwordless account's sign-in is too old for a sensitive change. */
export const SIGN_IN_AGAIN = 'To confirm it is you, sign in again with your identity provider (your last sign-in was more than 5 minutes ago), then try again.';

/** What a form of a sensitive change shows for re-authentication (partial `current-password`). */
export interface Reauthentication {
  /** The account has a password: the form asks for it. */
  password: boolean;
  /** Without a password: whether this browser's sign-in through a provider is recent enough. */
  recent: boolean;
  /** The account's providers, to sign in again with. */
  providers: Array<{ id: string; label: string }>;
}

/**
 * How the pages' sensitive forms re-authenticate (AuthService.assertRecentAuthentication decides;
 * this only shapes the form): a password field, or for an account without one a word on whether
 * its provider sign-in is recent, with the links to sign in again.
 */
@Injectable()
export class ReauthenticationView {
  constructor(private readonly identities: IdentitiesService) {}

  async of({ user, session }: BrowserSession): Promise<Reauthentication> {
    if (user.passwordHash !== null) return { password: true, recent: false, providers: [] };
    const recent = session.signInMethod === 'provider' && Date.now() - session.signedInAt.getTime() <= REAUTHENTICATION_WINDOW_MS;
    const providers = (await this.identities.list(user.id)).flatMap((identity) => (identity.provider ? [{ id: identity.provider.id, label: identity.provider.label }] : []));
    return { password: false, recent, providers };
  }
}

/**
 * The `currentPassword` field of a form, for the service: undefined when left empty (an account
 * without a password sends none). `missing` when the account has a password and it was not given.
 */
export function currentPasswordOf(form: Form, { user }: BrowserSession): { currentPassword?: string; missing: boolean } {
  const typed = field(form, 'currentPassword');
  return { currentPassword: typed || undefined, missing: user.passwordHash !== null && (!typed || typed.length > 1024) };
}
