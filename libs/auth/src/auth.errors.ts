/** Domain errors of the auth flows. apps/api maps each to a status and a problem `code`. */

export class InvalidCredentialsError extends Error {
  override readonly name = 'InvalidCredentialsError';
  constructor() {
    super('The email or password is incorrect');
  }
}

/** 403 EMAIL_NOT_CONFIRMED: signing in (with confirmation required), or turning MFA on, before the address is confirmed. */
export class EmailNotConfirmedError extends Error {
  override readonly name = 'EmailNotConfirmedError';
  constructor(message = 'Confirm your email address before signing in') {
    super(message);
  }
}

export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';
  constructor() {
    super('An account with this email address already exists');
  }
}

export type PasswordWeakness = 'too_short' | 'too_long' | 'common' | 'contains_email';

export class PasswordTooWeakError extends Error {
  override readonly name = 'PasswordTooWeakError';
  constructor(
    readonly reason: PasswordWeakness,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Confirming with a link that carries no password (an anonymous resend) needs a password chosen
 * there; a link that carries one refuses another, so the client knows which one became active.
 */
export class ConfirmationPasswordError extends Error {
  override readonly name = 'ConfirmationPasswordError';
  constructor(readonly reason: 'required' | 'not_allowed') {
    super(
      reason === 'required'
        ? 'This link asks you to choose a password'
        : 'This link already carries the password of its registration; send no password',
    );
  }
}

/** The current password given to a password change is wrong (the caller is signed in). */
export class WrongCurrentPasswordError extends Error {
  override readonly name = 'WrongCurrentPasswordError';
  constructor() {
    super('The current password is incorrect');
  }
}

/** An email change to the address the account already has (compared case-insensitively). */
export class SameEmailError extends Error {
  override readonly name = 'SameEmailError';
  constructor() {
    super('This is already the address of your account');
  }
}

export class InvalidRefreshTokenError extends Error {
  override readonly name = 'InvalidRefreshTokenError';
  constructor() {
    super('The refresh token is invalid, expired or already used');
  }
}

/** No bearer token, or one whose signature, claims or session no longer hold. */
export class AuthenticationRequiredError extends Error {
  override readonly name = 'AuthenticationRequiredError';
  constructor() {
    super('A valid access token is required');
  }
}

export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';
  constructor() {
    super('No such session');
  }
}

/** An abuse limit was reached; the client may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
  constructor(readonly retryAfterSeconds: number) {
    super('Too many requests; try again later');
  }
}
