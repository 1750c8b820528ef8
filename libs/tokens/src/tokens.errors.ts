/** Unknown, expired, used or superseded: one answer for all, so a token's history does not leak. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor() {
    super('The token is invalid or has expired');
  }
}
