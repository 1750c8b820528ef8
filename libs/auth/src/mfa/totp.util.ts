import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as SPEC §11 fixes it: SHA-1, 6 digits, 30-second steps, one step of drift either way. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
const WINDOW = 1;

function totp(secretBase32: string, issuer?: string, label?: string): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** A fresh secret: 20 random bytes (RFC 4226's recommended 160 bits), base32 as apps expect it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/...` URL authenticator apps import (the QR code holds it). */
export function totpUrl(secretBase32: string, issuer: string, account: string): string {
  // A colon would split issuer and account in the label; authenticator apps show the issuer parameter anyway.
  return totp(secretBase32, issuer.replace(/:/g, ' '), account.replace(/:/g, ' ')).toString();
}

/**
 * The time step whose code `code` is, within one step of `now`, or null. The caller remembers the
 * step so the same code (or an earlier one) is never accepted twice.
 */
export function matchingTotpStep(secretBase32: string, code: string, now: number = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? null : TOTP.counter({ period: PERIOD_SECONDS, timestamp: now }) + delta;
}

/** Whether an input looks like a TOTP code (six digits) rather than a recovery code. */
export function isTotpCode(input: string): boolean {
  return /^\d{6}$/.test(input.replace(/\s/g, ''));
}
