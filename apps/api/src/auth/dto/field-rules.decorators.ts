import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { isEmail, IsNotEmpty, IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
import { isSingleAddress } from '@accounts/mail/contract';
import { canonicalEmail, normalizeEmail } from '@accounts/users';

const EMAIL_MAX_LENGTH = 254;

const EMAIL_SYNTAX = { allow_utf8_local_part: true, allow_ip_domain: false, allow_display_name: false } as const;

/**
 * Whether `input` (as typed: it is trimmed and NFC-normalised here) is an address an account may
 * have. The canonical, lowercased form must fit too: lowercasing can lengthen a string ("İ"
 * becomes two code units), and that form is what the unique column stores.
 */
export function isAcceptableEmail(input: unknown): boolean {
  if (typeof input !== 'string') return false;
  const email = normalizeEmail(input);
  return (
    email.length <= EMAIL_MAX_LENGTH &&
    canonicalEmail(email).length <= EMAIL_MAX_LENGTH &&
    isSingleAddress(email) &&
    isEmail(email, EMAIL_SYNTAX)
  );
}

/** Trimmed and NFC-normalised, at most 254 characters, one address (CR, LF and NUL never pass). */
export function IsAccountEmail() {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value)),
    IsString(),
    MaxLength(EMAIL_MAX_LENGTH),
    ValidateBy({ name: 'isAccountEmail', validator: { validate: isAcceptableEmail } }, { message: 'email must be an email address' }),
  );
}

/**
 * A password field. Strength and the 128-character limit are the password policy's to judge; this
 * only refuses non-strings and absurd sizes before any hashing.
 */
export function IsPasswordField() {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(1024));
}

/** How a new password is judged, for the document. */
export const PASSWORD_RULES =
  'At most 128 characters; guessable passwords (strength below 3 of 4, the address and name of the user counting against it) and ones containing the address are refused';

/** The schema properties that take a new password, as [schema name, property]. */
export const NEW_PASSWORD_FIELDS: Array<[schema: string, property: string]> = [];

/**
 * Documents a property that sets a password. Its minLength is PASSWORD_MIN_LENGTH, which only the
 * configuration knows: the document builder fills it in (apps/api/src/ops/docs/openapi.docs.ts).
 */
export function ApiNewPassword(description: string): PropertyDecorator {
  return (target, property) => {
    NEW_PASSWORD_FIELDS.push([target.constructor.name, String(property)]);
    ApiProperty({ format: 'password', maxLength: 128, description })(target, property);
  };
}

/** An emailed or refresh token: opaque, bounded. */
export function IsOpaqueToken() {
  return applyDecorators(IsString(), IsNotEmpty(), MaxLength(512));
}

/**
 * A display name: 1–100 characters, no control characters (nor line or paragraph separators), and
 * well-formed Unicode: a lone surrogate cannot be stored as UTF-8 or in a JSON event.
 */
export function IsDisplayName() {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim().normalize('NFC') : value)),
    IsString(),
    Length(1, 100),
    Matches(/^[^\p{Cc}\p{Zl}\p{Zp}\p{Cs}]*$/u, { message: 'name must not contain control characters' }),
  );
}
