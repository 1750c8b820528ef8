/** Domain errors of sign-in through external identity providers (SPEC §12). apps/api maps them. */

/** No provider of that id is configured. */
export class UnknownOidcProviderError extends Error {
  override readonly name = 'UnknownOidcProviderError';
  constructor() {
    super('No such identity provider');
  }
}

/** The provider cannot be reached, hangs past the timeout, or fails on its side. */
export class OidcProviderUnavailableError extends Error {
  override readonly name = 'OidcProviderUnavailableError';
  constructor() {
    super('The identity provider cannot be reached right now; try again shortly');
  }
}

/**
 * Why a sign-in at a provider ended without an account: the user declined (`access_denied`), the
 * provider refused (`provider_error`), its answer did not verify (`invalid_response`: a replayed
 * code, a tampered or foreign ID token), the sign-in was not one this browser started or it expired
 * (`invalid_state`), or the provider vouches for no address (`email_not_verified`).
 */
export type OidcFailure = 'access_denied' | 'provider_error' | 'invalid_response' | 'invalid_state' | 'email_not_verified';

export class OidcSignInFailedError extends Error {
  override readonly name = 'OidcSignInFailedError';
  constructor(readonly reason: OidcFailure) {
    super(
      {
        access_denied: 'The sign-in was cancelled at the identity provider',
        provider_error: 'The identity provider refused the sign-in',
        invalid_response: 'The answer of the identity provider could not be verified',
        invalid_state: 'This sign-in was not started in this browser, was already used, or has expired',
        email_not_verified: 'The identity provider does not confirm that you own an email address, so no account can be joined or created',
      }[reason],
    );
  }
}

/** The redirect_uri an API consumer named is not exactly one of OIDC_REDIRECT_ALLOWLIST. */
export class RedirectUriNotAllowedError extends Error {
  override readonly name = 'RedirectUriNotAllowedError';
  constructor() {
    super('redirect_uri is not one of the allowed redirect URIs');
  }
}

/**
 * An API consumer named a redirect URI that is not https (a private-use scheme, a loopback
 * address) without a PKCE challenge: any app that can register that scheme or port could redeem
 * the code (RFC 8252 §8.1).
 */
export class PkceRequiredError extends Error {
  override readonly name = 'PkceRequiredError';
  constructor() {
    super('A redirect URI that is not https needs PKCE: send code_challenge and code_challenge_method=S256');
  }
}

/** Unlinking this identity would leave the account without any way to sign in. */
export class LastSignInMethodError extends Error {
  override readonly name = 'LastSignInMethodError';
  constructor() {
    super('This is the last way to sign in to your account. Set a password first (forgot password), or link another provider');
  }
}

/** No such identity on the caller's account. */
export class IdentityNotFoundError extends Error {
  override readonly name = 'IdentityNotFoundError';
  constructor() {
    super('No such identity');
  }
}

/**
 * An account without a password proves itself for a sensitive change by a sign-in through its
 * identity provider within the last few minutes, and this session's sign-in is older (or was not one).
 */
export class ReauthenticationRequiredError extends Error {
  override readonly name = 'ReauthenticationRequiredError';
  constructor() {
    super('Sign in again through your identity provider, then repeat this within 5 minutes');
  }
}
