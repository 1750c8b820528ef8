import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { TooManyRequestsError } from '@accounts/auth';

/** A submitted HTML form: every field may be missing or of the wrong type. */
export type Form = Record<string, unknown> | undefined;

export function field(form: Form, name: string): string {
  const value = form?.[name];
  return typeof value === 'string' ? value : '';
}

/** `3 minutes`: when a throttled visitor may try again. */
export function retryDelayInWords(error: TooManyRequestsError): string {
  const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export type FieldErrors = Record<string, string>;

/** Validates form fields with the API's own DTO rules; messages are the API's, in words. */
export async function checkForm<T extends object>(type: new () => T, fields: Record<string, string>): Promise<{ value: T; errors: FieldErrors }> {
  const value = plainToInstance(type, fields);
  const errors: FieldErrors = {};
  for (const error of await validate(value, { whitelist: true })) {
    errors[error.property] ??= Object.values(error.constraints ?? {})[0] ?? 'This field is invalid';
  }
  return { value, errors };
}
