import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { authConfig } from '@accounts/config';
import { emailLocalPart } from '@accounts/users';
import { PasswordTooWeakError } from './auth.errors';

export const PASSWORD_MAX_LENGTH = 128;

/** zxcvbn's scale runs 0..4; 3 means "safely unguessable" (about 10^8 guesses and up). */
const MIN_SCORE = 3;
/**
 * The estimate reads this many leading characters only (zxcvbn's `maxLength`): its cost grows
 * steeply with length, and a 128-character password would hold the event loop for over a second.
 * A password whose first 64 characters are hard to guess is hard to guess; one whose first 64 are
 * guessable is refused whatever follows. Nothing is truncated for hashing.
 */
const ESTIMATE_MAX_LENGTH = 64;
/** Bounds the l33t variants tried per password, the other steep cost, without missing `p4ssw0rd`. */
const L33T_MAX_SUBSTITUTIONS = 10;

/** Whose password it is: the address and name count as dictionary words against it. */
export interface PasswordOwner {
  email: string;
  name?: string | null;
}

let estimator: ZxcvbnFactory | undefined;

/**
 * One estimator per process, shared by every app instance in it: its dictionaries take ~60 MB and
 * a few hundred milliseconds to build.
 */
function strengthEstimator(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: zxcvbnEn.translations,
    graphs: zxcvbnCommon.adjacencyGraphs,
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    maxLength: ESTIMATE_MAX_LENGTH,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  });
  return estimator;
}

/**
 * NIST SP 800-63B style rules: length, no composition rules, and no guessable passwords, judged by
 * the zxcvbn strength estimator (common passwords, names and words, keyboard walks, sequences,
 * repeats, l33t, and the owner's own address and name). Passwords are NFC-normalised before any
 * check or hash and never truncated.
 */
@Injectable()
export class PasswordPolicy implements OnModuleInit {
  constructor(@Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>) {}

  /** Builds the estimator at boot, so the first registration does not pay for it. */
  onModuleInit(): void {
    strengthEstimator();
  }

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
    const estimate = strengthEstimator().check(normalized, ownWords(owner));
    if (estimate.score < MIN_SCORE) throw new PasswordTooWeakError('common', explain(estimate));
  }
}

/**
 * The address, its local part and the name: whole, in pieces and run together
 * (`ada.lovelace` → `ada`, `lovelace`, `adalovelace`).
 */
function ownWords({ email, name }: PasswordOwner): string[] {
  const separators = /[^\p{L}\p{N}]+/u;
  const whole = [email.trim().toLowerCase(), emailLocalPart(email), ...(name ? [name.toLowerCase()] : [])];
  const variants = whole.flatMap((word) => [word, ...word.split(separators), word.split(separators).join('')]);
  return [...new Set(variants)].filter((word) => word.length >= 3);
}

/** zxcvbn's own warning and suggestions, as one message without a final full stop. */
function explain({ feedback }: ZxcvbnResult): string {
  const sentences = ['This password is too easy to guess.', feedback.warning, ...feedback.suggestions].filter(Boolean);
  return sentences.join(' ').replace(/\.$/, '');
}
