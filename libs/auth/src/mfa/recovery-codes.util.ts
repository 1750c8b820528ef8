import { randomInt } from 'node:crypto';

/** Crockford's base32 alphabet: no i, l, o or u, so a code read aloud or copied by hand survives. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 3;
const GROUP_LENGTH = 4;
/** SPEC §11: ten codes per set. */
export const RECOVERY_CODE_COUNT = 10;

/** One code: 12 characters of 5 bits each (60 bits), written `xxxx-xxxx-xxxx`. */
function newRecoveryCode(): string {
  const groups = Array.from({ length: GROUPS }, () => Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

/** A new set of distinct codes. */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  return [...codes];
}

/**
 * The canonical form a code is digested in: case, spaces and dashes do not matter, and the letters
 * Crockford's alphabet leaves out read as the digits they look like.
 */
export function normalizeRecoveryCode(input: string): string {
  return input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
}
