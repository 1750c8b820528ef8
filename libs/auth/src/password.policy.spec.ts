import { PasswordTooWeakError } from './auth.errors';
import { PasswordPolicy } from './password.policy';

describe('PasswordPolicy', () => {
  const policy = new PasswordPolicy({ passwordMinLength: 12 } as never);
  const reason = (password: string, email = 'someone@example.com') => {
    try {
      policy.assertAcceptable(password, email);
      return 'ok';
    } catch (error) {
      return (error as PasswordTooWeakError).reason;
    }
  };

  it('measures length in characters after NFC, not bytes or UTF-16 units', () => {
    expect(reason('ééééééééééé')).toBe('too_short'); // 11 characters
    expect(reason('e\u0301'.repeat(12))).toBe('ok'); // 12 characters once composed
    expect(reason('😀'.repeat(12))).toBe('ok'); // 24 UTF-16 units, 12 characters
    expect(reason('x'.repeat(128) + 'y')).toBe('too_long');
  });

  it('refuses the most common passwords whatever their case', () => {
    expect(reason('Unbelievable')).toBe('common');
    expect(reason('MOTHERFUCKER')).toBe('common');
  });

  it("refuses passwords containing the address's local part", () => {
    expect(reason('my name is margaret, ok', 'Margaret@example.com')).toBe('contains_email');
    expect(reason('a perfectly fine passphrase', 'al@example.com')).toBe('ok');
  });
});
