import { randomBytes } from 'node:crypto';
import { PasswordTooWeakError } from './auth.errors';
import { ESTIMATE_MAX_LENGTH, PasswordStrengthEstimator } from './password-strength.estimator';
import { PasswordPolicy, type PasswordOwner } from './password.policy';

const auth = { passwordMinLength: 12 } as never;
const accounts = { name: 'Accounts' } as never;

describe('PasswordPolicy', () => {
  const policy = new PasswordPolicy(auth, accounts, new PasswordStrengthEstimator());
  const refusal = (password: string, owner: PasswordOwner = { email: 'someone@example.com' }) => {
    try {
      policy.assertAcceptable(password, owner);
      return { reason: 'ok', message: '' };
    } catch (error) {
      return { reason: (error as PasswordTooWeakError).reason, message: (error as PasswordTooWeakError).message };
    }
  };
  const reason = (password: string, owner?: PasswordOwner) => refusal(password, owner).reason;

  it('measures length in characters after NFC, not bytes or UTF-16 units', () => {
    expect(reason('ééééééééééé')).toBe('too_short'); // 11 characters
    expect(reason('x'.repeat(128) + 'y')).toBe('too_long');
    // 12 characters once composed (24 code units before), judged on strength, not length.
    expect(reason(`ünïcödé wörd${'e\u0301'}`.normalize('NFD'))).toBe('ok');
    expect(reason('🦊🌲🚲🎻🧀🛶 mint kettle')).toBe('ok'); // emoji count once each
  });

  it('refuses keyboard walks, common passwords with digits, and repeats, saying why in words', () => {
    for (const password of ['1qaz2wsx3edc', '123qweasdzxc', 'password1234', 'passwordpassword']) {
      const { reason: why, message } = refusal(password);
      expect({ password, why }).toEqual({ password, why: 'common' });
      expect(message).toMatch(/^This password is too easy to guess\. \S/);
      expect(message).not.toMatch(/\.$/);
    }
    expect(refusal('1qaz2wsx3edc').message).toContain('commonly used password');
    expect(refusal('passwordpassword').message).toMatch(/repeat/i);
  });

  it('refuses the most common passwords whatever their case', () => {
    expect(reason('Unbelievable')).toBe('common');
    expect(reason('MOTHERFUCKER')).toBe('common');
  });

  it("refuses a password made of the user's own name and address", () => {
    const owner = { email: 'jo@quillfeather.io', name: 'Jo Quillfeather' };
    const stranger = { email: 'someone@example.com', name: 'Grace Hopper' };
    for (const password of ['jo@quillfeather.io', 'Quillfeather 99', 'JoQuillfeather!']) {
      // Strong enough for someone else: it is the owner's own name and address that give it away.
      expect({ password, stranger: reason(password, stranger) }).toEqual({ password, stranger: 'ok' });
      expect({ password, owner: reason(password, owner) }).toEqual({ password, owner: 'common' });
    }
    expect(refusal('Quillfeather 99', owner).message).toMatch(/personal/i);
  });

  it("refuses passwords containing the address's local part", () => {
    expect(reason('my name is margaret, ok', { email: 'Margaret@example.com' })).toBe('contains_email');
    expect(reason('a perfectly fine passphrase', { email: 'al@example.com' })).toBe('ok');
  });

  it('accepts the passwords the tests generate', () => {
    expect(reason('Correct horse 0a1b2c3d4e5f staple')).toBe('ok');
  });

  it('gives the costly estimate at most its first 32 characters, whole characters only', () => {
    const seen: string[] = [];
    const recording = new (class extends PasswordStrengthEstimator {
      override estimate(password: string, ownWords: string[]) {
        seen.push(password);
        return super.estimate(password, ownWords);
      }
    })();
    const watched = new PasswordPolicy(auth, accounts, recording);
    for (const password of ['1'.repeat(128), randomBytes(96).toString('base64'), '🦊'.repeat(128), 'p4$$w0rd!1|@3'.repeat(9)]) {
      try {
        watched.assertAcceptable(password, { email: 'someone@example.com' });
      } catch {
        // The verdict is the next test's concern; here only what the estimator was given.
      }
    }
    expect(ESTIMATE_MAX_LENGTH).toBe(32);
    expect(seen.map((password) => [...password].length)).toEqual([32, 32, 32, 32]);
    expect(seen[2]).toBe('🦊'.repeat(32));
  });

  it('refuses a password whose first 32 characters are guessable, whatever follows', () => {
    const tail = randomBytes(48).toString('base64url');
    expect(reason(`correct horse ${tail}`)).toBe('ok');
    expect(reason('1'.repeat(32) + tail)).toBe('common');
    expect(reason('1'.repeat(128))).toBe('common');
  });

  it("counts the address's domain and the product name (APP_NAME) as words against the password", () => {
    expect(reason('examplecom2024', { email: 'someone@example.com' })).toBe('common');
    expect(reason('examplecom2024', { email: 'someone@quillfeather.io' })).toBe('ok');
    const quillbank = new PasswordPolicy(auth, { name: 'Quillbank' } as never, new PasswordStrengthEstimator());
    expect(reason('Quillbank2024')).toBe('ok');
    expect(() => quillbank.assertAcceptable('Quillbank2024', { email: 'someone@example.com' })).toThrow(PasswordTooWeakError);
  });
});
