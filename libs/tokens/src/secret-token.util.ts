import { createHash, randomBytes } from 'node:crypto';

/** A fresh bearer secret: 32 random bytes, base64url (43 characters). */
export function generateSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps instead of a token: its SHA-256, hex. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
