import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { ZxcvbnResult } from '@zxcvbn-ts/core';
import { appConfig, authConfig } from '@accounts/config';
import { emailLocalPart } from '@accounts/users';
import { PasswordTooWeakError } from './auth.errors';
import { ESTIMATE_MAX_LENGTH, PasswordStrengthEstimator } from './password-strength.estimator';

export const PASSWORD_MAX_LENGTH = 128;

/** zxcvbn's scale runs 0..4; 3 means "safely unguessable" (about 10^8 guesses and up). */
const MIN_SCORE = 3;

/** Whose password it is: the address and name count as dictionary words against it. */
export interface PasswordOwner {
  email: string;
  name?: string | null;
}

/**
 * NIST SP 800-63B style rules: length, no composition rules, and no guessable passwords, judged by
 * the zxcvbn strength estimator (common passwords, names and words, keyboard walks, sequences,
 * repeats, l33t, the owner's own address, its domain and name, and the product name). Passwords are NFC-normalised before any
 * check or hash and never truncated.
 */
@Injectable()
export class PasswordPolicy {
  constructor(
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    private readonly estimator: PasswordStrengthEstimator,
  ) {}

  /** Throws PasswordTooWeakError, saying why in words, when `owner` may not use the password. */
  assertAcceptable(password: string, owner: PasswordOwner): void {
    const normalized = password.normalize('NFC');
    const length = [...normalized].length;
    const min = this.config.passwordMinLength;
    if (length < min) throw new PasswordTooWeakError('too_short', `The password must be at least ${min} characters long`);
    if (length > PASSWORD_MAX_LENGTH) {
      throw new PasswordTooWeakError('too_long', `The password must be at most ${PASSWORD_MAX_LENGTH} characters long`);
    }
    const local = emailLocalPart(owner.email);
    if (local.length >= 3 && normalized.toLowerCase().includes(local)) {
      throw new PasswordTooWeakError('contains_email', 'The password must not contain your email address');
    }
    // The cheap checks above read the whole password; the costly estimate only its beginning.
    const prefix = [...normalized].slice(0, ESTIMATE_MAX_LENGTH).join('');
    const estimate = this.estimator.estimate(prefix, [...ownWords(owner), ...productWords(this.app.name)]);
    if (estimate.score < MIN_SCORE) throw new PasswordTooWeakError('common', explain(estimate));
  }
}

const SEPARATORS = /[^\p{L}\p{N}]+/u;

/** A word whole, in pieces and run together (`ada.lovelace` → `ada`, `lovelace`, `adalovelace`). */
function variants(words: string[]): string[] {
  const all = words.flatMap((word) => [word, ...word.split(SEPARATORS), word.split(SEPARATORS).join('')]);
  return [...new Set(all)].filter((word) => word.length >= 3);
}

/**
 * The address, its local part, its domain (`example.com` → `example`, `examplecom`) and the name:
 * what an attacker who knows whose account it is tries first.
 */
function ownWords({ email, name }: PasswordOwner): string[] {
  const address = email.trim().toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return variants([address, emailLocalPart(email), domain, ...(name ? [name.toLowerCase()] : [])]);
}

/** The product's own name (`APP_NAME`), which every user of it sees and an attacker tries. */
function productWords(appName: string): string[] {
  return variants([appName.toLowerCase()]);
}

/** zxcvbn's own warning and suggestions, as one message without a final full stop. */
function explain({ feedback }: ZxcvbnResult): string {
  const sentences = ['This password is too easy to guess.', feedback.warning, ...feedback.suggestions].filter(Boolean);
  return sentences.join(' ').replace(/\.$/, '');
}
