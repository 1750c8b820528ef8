import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, Length, Matches, MaxLength } from 'class-validator';
import { normalizeEmail } from '@accounts/users';

/** Trimmed and NFC-normalised, at most 254 characters, one address (CR, LF and NUL never pass). */
export function IsAccountEmail() {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value)),
    IsString(),
    MaxLength(254),
    IsEmail({ allow_utf8_local_part: true, allow_ip_domain: false, allow_display_name: false }, { message: 'email must be an email address' }),
  );
}

/**
 * A password field. Strength and the 128-character limit are the password policy's to judge; this
 * only refuses non-strings and absurd sizes before any hashing.
 */
export function IsPasswordField() {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(1024));
}

/** An emailed or refresh token: opaque, bounded. */
export function IsOpaqueToken() {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(512));
}

/** A display name: 1–100 characters, no control characters. */
export function IsDisplayName() {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim().normalize('NFC') : value)),
    IsString(),
    Length(1, 100),
    Matches(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, { message: 'name must not contain control characters' }),
  );
}
