/**
 * One plain address, as the worker sends to it: no whitespace, control characters (CR, LF, NUL…),
 * lone surrogates, quotes or backslashes (so no quoted local part, which RFC 5321 allows to carry
 * CR/LF and commas), and nothing that separates addresses or opens a display name. The API accepts
 * no other address, and the worker sends to no other.
 */
const SINGLE_ADDRESS = /^[^\s\p{Cc}\p{Cs}@,;<>()"\\]+@[^\s\p{Cc}\p{Cs}@,;<>()"\\]+$/u;

export function isSingleAddress(value: unknown): value is string {
  return typeof value === 'string' && SINGLE_ADDRESS.test(value);
}

/** `a***@example.com`: enough to correlate log lines and recognise a recipient, not to harvest addresses. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 1 ? '***' : `${email[0]}***${email.slice(at)}`;
}
