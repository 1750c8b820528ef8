import { randomBytes } from 'node:crypto';
import { MfaCrypto } from './mfa.crypto';
import { newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.util';

describe('MfaCrypto', () => {
  const crypto = new MfaCrypto({ key: randomBytes(32) });

  it('encrypts a TOTP secret so that only the same key and user open it', () => {
    const sealed = crypto.sealSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DP');
    expect(crypto.sealSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'user-1')).not.toBe(sealed);
    expect(crypto.openSecret(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(() => crypto.openSecret(sealed, 'user-2')).toThrow();
    expect(() => new MfaCrypto({ key: randomBytes(32) }).openSecret(sealed, 'user-1')).toThrow();
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[15] ^= 1;
    expect(() => crypto.openSecret(`v1.${bytes.toString('base64url')}`, 'user-1')).toThrow();
  });

  it('digests recovery codes per user and key, however they are written', () => {
    const digest = crypto.digestRecoveryCode('k3m9-x2pq-7vd4', 'user-1');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(crypto.digestRecoveryCode(' K3M9 X2PQ 7VD4 ', 'user-1')).toBe(digest);
    expect(crypto.digestRecoveryCode('k3m9-x2pq-7vd4', 'user-2')).not.toBe(digest);
    expect(new MfaCrypto({ key: randomBytes(32) }).digestRecoveryCode('k3m9-x2pq-7vd4', 'user-1')).not.toBe(digest);
  });
});

describe('recovery codes', () => {
  it('are 10 distinct codes of 12 base32 characters (60 bits) each', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(12 * Math.log2(32)).toBeGreaterThanOrEqual(50);
  });

  it('read the letters the alphabet leaves out as the digits they look like', () => {
    expect(normalizeRecoveryCode('IO1L-abcd-0000')).toBe('1011abcd0000');
  });
});
