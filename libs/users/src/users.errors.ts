/**
 * The signed-in user's account is gone (deleted after the request's session was checked). The API
 * answers it as it answers an ended session.
 */
export class AccountGoneError extends Error {
  override readonly name = 'AccountGoneError';
  constructor() {
    super('Account gone');
  }
}
