import { signIn, type Account, type Session } from './security';
import type { Stack } from './stack';
import { totpCode } from './totp';

/** An account with MFA on: its secret and recovery codes, and the session that turned it on. */
export interface MfaAccount {
  secret: string;
  recoveryCodes: string[];
  session: Session;
}

/**
 * Turns MFA on through the API: setup with the password, then enable with a code of the secret
 * (`offsetSteps` from now, as oathtool and otpauth agree). That code's step counts as used.
 */
export async function enableMfa(stack: Stack, account: Account, offsetSteps = 0): Promise<MfaAccount> {
  const session = await signIn(stack, account.email, account.password);
  const setup = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: account.password }, session.accessToken);
  if (setup.status !== 200) throw new Error(`setup: ${setup.status} ${JSON.stringify(setup.body)}`);
  const enabled = await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(setup.body.secret, offsetSteps) }, session.accessToken);
  if (enabled.status !== 200) throw new Error(`enable: ${enabled.status} ${JSON.stringify(enabled.body)}`);
  return { secret: setup.body.secret, recoveryCodes: enabled.body.recoveryCodes, session };
}

/** The first step of a sign-in of an MFA account: its mfaToken. */
export async function mfaTokenFor(stack: Stack, account: Account): Promise<string> {
  const login = await stack.api.post('/auth/login', { email: account.email, password: account.password });
  if (login.status !== 401 || login.body.code !== 'MFA_REQUIRED') throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.mfaToken;
}

/**
 * MFA on an account whose address is not confirmed (a claim). Setup refuses that since the address
 * must be confirmed first, so the factor is planted the way an account enrolled before that rule
 * has it: confirmed for the setup, unconfirmed again afterwards.
 */
export async function enableMfaOnClaim(stack: Stack, account: Account & { userId: string }, offsetSteps = 0): Promise<MfaAccount> {
  await stack.sql('update users set email_confirmed_at = now() where id = ?', [account.userId]);
  try {
    return await enableMfa(stack, account, offsetSteps);
  } finally {
    await stack.sql('update users set email_confirmed_at = null where id = ?', [account.userId]);
  }
}
