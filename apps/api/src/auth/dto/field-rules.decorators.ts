import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { isEmail, IsNotEmpty, IsOptional, IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
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

/**
 * The `currentPassword` of a sensitive change (SPEC §10-§12): required of an account with a password
 * (missing counts as a wrong one: 400 INVALID_CREDENTIALS), left out by an account without one,
 * which proves itself by a recent sign-in through its provider (AuthService.assertRecentAuthentication).
 */
export function IsCurrentPasswordField() {
  return applyDecorators(ApiPropertyOptional({ format: 'password', description: `The password in use now. ${REAUTHENTICATION_RULE}` }), IsOptional(), IsPasswordField());
}

/** The re-authentication contract, for the operations' descriptions. */
export const REAUTHENTICATION_RULE =
  'Re-authentication: `currentPassword` is required when the account has a password (missing or wrong: 400 INVALID_CREDENTIALS, counted per account); an account without one leaves it out and must have signed in through its identity provider within the last 5 minutes, else 401 REAUTHENTICATION_REQUIRED.';

/** The problems of an operation that re-authenticates. */
export const REAUTHENTICATION_PROBLEMS = { 400: ['INVALID_CREDENTIALS'], 401: ['REAUTHENTICATION_REQUIRED'] } as const;

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
