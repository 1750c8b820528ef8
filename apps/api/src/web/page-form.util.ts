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
