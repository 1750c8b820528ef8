import { createHash, timingSafeEqual } from 'node:crypto';

/** An S256 code challenge: base64url of a SHA-256 digest, unpadded (RFC 7636 §4.2). */
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** A code verifier: 43 to 128 unreserved characters (RFC 7636 §4.1). */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * Whether `verifier` answers the S256 `challenge`. Compared in constant time, so the answer's
 * timing tells nothing about how much of a guess was right.
 */
export function answersS256Challenge(verifier: string, challenge: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
