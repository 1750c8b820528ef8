import { createHmac } from 'node:crypto';

/** The claims and settings the API issues access tokens with in tests (see test-env.ts). */
export const TEST_JWT = {
  secret: process.env.JWT_SECRET ?? 'test-only jwt secret, at least thirty-two bytes long',
  issuer: 'http://accounts.test',
  audience: 'accounts-api',
};

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The decoded header and payload of a compact JWT (no verification). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
    signature,
  };
}

/**
 * Builds a compact JWT with any header and payload. `key` signs it with HMAC-SHA256 (whatever the
 * header claims); `signature` puts a given string in the third segment instead.
 */
export function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  { key, signature, hash = 'sha256' }: { key?: string | Buffer; signature?: string; hash?: 'sha256' | 'sha384' | 'sha512' } = {},
): string {
  const unsigned = `${segment(header)}.${segment(payload)}`;
  const sig = signature ?? (key === undefined ? '' : createHmac(hash, key).update(unsigned).digest('base64url'));
  return `${unsigned}.${sig}`;
}

/** An access token as the API would sign it, with claims overridable (exp in the past, other iss…). */
export function signAccessToken(claims: Record<string, unknown>, key: string | Buffer = TEST_JWT.secret): string {
  const now = Math.floor(Date.now() / 1000);
  return forgeJwt(
    { alg: 'HS256', typ: 'JWT' },
    { iat: now, exp: now + 900, iss: TEST_JWT.issuer, aud: TEST_JWT.audience, ...claims },
    { key },
  );
}
