import { execFileSync } from 'node:child_process';
import { matchingTotpStep, newTotpSecret, totpUrl } from './totp.util';

/** Debian's oathtool: an RFC 6238 implementation independent of the library we use. */
function oathtool(secret: string, atMs: number): string {
  return execFileSync(process.env.OATHTOOL_PATH ?? '/usr/bin/oathtool', ['--totp', '-b', secret, '-N', `@${Math.floor(atMs / 1000)}`], { encoding: 'utf8' }).trim();
}

describe('TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift)', () => {
  const secret = newTotpSecret();
  const now = Date.UTC(2026, 11, 1, 12, 0, 10);
  const step = Math.floor(now / 30_000);

  it('makes 160-bit base32 secrets, a new one each time', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
  });

  it("accepts oathtool's codes of this step and the steps either side, and names the step", () => {
    for (const offset of [-1, 0, 1]) expect(matchingTotpStep(secret, oathtool(secret, now + offset * 30_000), now)).toBe(step + offset);
  });

  it("refuses oathtool's codes two steps away, and anything that is not six digits", () => {
    for (const offset of [-2, 2]) {
      const code = oathtool(secret, now + offset * 30_000);
      // A code that happens to equal a nearby one would be accepted, rightly; skip that 1-in-a-million case.
      if ([-1, 0, 1].some((near) => oathtool(secret, now + near * 30_000) === code)) continue;
      expect(matchingTotpStep(secret, code, now)).toBeNull();
    }
    for (const input of ['', '12345', '1234567', 'abcdef', ' 123456', '12345\n']) expect(matchingTotpStep(secret, input, now)).toBeNull();
  });

  it('matches the RFC 6238 test vector (T = 59 s) through oathtool as well', () => {
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
    expect(oathtool(rfcSecret, 59_000)).toBe('287082');
    expect(matchingTotpStep(rfcSecret, '287082', 59_000)).toBe(1);
  });

  it('writes the otpauth URL authenticator apps import, with the issuer and account', () => {
    const url = new URL(totpUrl(secret, 'Acme: Accounts', 'ada@example.com'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ secret, issuer: 'Acme  Accounts', algorithm: 'SHA1', digits: '6', period: '30' });
    expect(decodeURIComponent(url.pathname)).toBe('/Acme  Accounts:ada@example.com');
  });
});
