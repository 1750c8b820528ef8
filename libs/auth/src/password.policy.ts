import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { emailLocalPart } from '@accounts/users';
import commonPasswords from './data/common-passwords.json';
import { PasswordTooWeakError } from './auth.errors';

export const PASSWORD_MAX_LENGTH = 128;

/**
 * NIST SP 800-63B style rules: length and a blocklist, no composition rules. Passwords are
 * NFC-normalised before any check or hash and never truncated.
 */
@Injectable()
export class PasswordPolicy {
  private readonly common = new Set<string>(commonPasswords as string[]);

  constructor(@Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>) {}

  /** Throws PasswordTooWeakError when the password may not be used by the account `email`. */
  assertAcceptable(password: string, email: string): void {
    const normalized = password.normalize('NFC');
    const length = [...normalized].length;
    const min = this.config.passwordMinLength;
    if (length < min) throw new PasswordTooWeakError('too_short', `The password must be at least ${min} characters long`);
    if (length > PASSWORD_MAX_LENGTH) {
      throw new PasswordTooWeakError('too_long', `The password must be at most ${PASSWORD_MAX_LENGTH} characters long`);
    }
    const lowered = normalized.toLowerCase();
    if (this.common.has(lowered)) throw new PasswordTooWeakError('common', 'This password is too common; choose another');
    const local = emailLocalPart(email);
    if (local.length >= 3 && lowered.includes(local)) {
      throw new PasswordTooWeakError('contains_email', 'The password must not contain your email address');
    }
  }
}
