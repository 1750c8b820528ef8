import { randomBytes } from 'node:crypto';

/** An address no other test uses, so tests own their data and run in any order. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(6).toString('hex')}@example.com`;
}

/** A password that passes the default policy and is unique per call. */
export function strongPassword(): string {
  return `Correct horse ${randomBytes(6).toString('hex')} staple`;
}
