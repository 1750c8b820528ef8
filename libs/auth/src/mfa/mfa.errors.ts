/** Domain errors of the second factor (SPEC §11). apps/api maps each to a status and a problem `code`. */

/**
 * The password (or identity provider) was right and the account has MFA on: the sign-in continues
 * at `POST /auth/login/mfa` with `mfaToken` (single use, 5 minutes, at most 5 code attempts).
 */
export class MfaRequiredError extends Error {
  override readonly name = 'MfaRequiredError';
  constructor(readonly mfaToken: string) {
    super('Enter a code from your authenticator app (or a recovery code) to finish signing in');
  }
}

/** The mfaToken is unknown, expired, used, or out of attempts: one answer for all. */
export class InvalidMfaTokenError extends Error {
  override readonly name = 'InvalidMfaTokenError';
  constructor() {
    super('This sign-in has expired or is no longer valid; sign in again');
  }
}

/** A wrong, used or replayed TOTP code, or an unknown or spent recovery code: one answer for all. */
export class InvalidMfaCodeError extends Error {
  override readonly name = 'InvalidMfaCodeError';
  constructor() {
    super('The code is incorrect or was already used');
  }
}

export class MfaAlreadyEnabledError extends Error {
  override readonly name = 'MfaAlreadyEnabledError';
  constructor() {
    super('Two-step sign-in is already on for this account');
  }
}

export class MfaNotEnabledError extends Error {
  override readonly name = 'MfaNotEnabledError';
  constructor() {
    super('Two-step sign-in is not on for this account');
  }
}

/** `enable` without a pending setup (none started, or MFA was turned on meanwhile elsewhere). */
export class MfaSetupRequiredError extends Error {
  override readonly name = 'MfaSetupRequiredError';
  constructor() {
    super('Start the setup first: it gives you the secret to add to your authenticator app');
  }
}
