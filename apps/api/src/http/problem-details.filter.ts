import { ConnectionException, DriverException } from '@mikro-orm/core';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  AuthenticationRequiredError,
  ConfirmationPasswordError,
  EmailNotConfirmedError,
  EmailTakenError,
  IdentityNotFoundError,
  InvalidCredentialsError,
  InvalidMfaCodeError,
  InvalidMfaTokenError,
  InvalidRefreshTokenError,
  MfaAlreadyEnabledError,
  MfaNotEnabledError,
  MfaRequiredError,
  MfaSetupRequiredError,
  LastSignInMethodError,
  OidcProviderUnavailableError,
  PkceRequiredError,
  ReauthenticationRequiredError,
  RedirectUriNotAllowedError,
  UnknownOidcProviderError,
  PasswordTooWeakError,
  SameEmailError,
  SessionNotFoundError,
  TooManyRequestsError,
  WrongCurrentPasswordError,
} from '@accounts/auth';
import { InvalidTokenError } from '@accounts/tokens';
import { AccountGoneError } from '@accounts/users';
import { ForbiddenJsonKeyError, MalformedJsonError } from './json-body.parser';
import { problem, ValidationFailedException, type Problem } from './problem.document';

type ErrorClass = new (...args: never[]) => Error;

/** Domain error → status, code, title. The domain error's own message becomes the detail. */
const DOMAIN_ERRORS: Array<[ErrorClass, number, string, string]> = [
  [InvalidCredentialsError, 401, 'INVALID_CREDENTIALS', 'Invalid credentials'],
  [WrongCurrentPasswordError, 400, 'INVALID_CREDENTIALS', 'Invalid credentials'],
  [EmailNotConfirmedError, 403, 'EMAIL_NOT_CONFIRMED', 'Email not confirmed'],
  [EmailTakenError, 409, 'EMAIL_TAKEN', 'Email taken'],
  [PasswordTooWeakError, 400, 'PASSWORD_TOO_WEAK', 'Password too weak'],
  [InvalidTokenError, 400, 'INVALID_TOKEN', 'Invalid token'],
  [InvalidRefreshTokenError, 401, 'INVALID_REFRESH_TOKEN', 'Invalid refresh token'],
  [AuthenticationRequiredError, 401, 'UNAUTHENTICATED', 'Authentication required'],
  [AccountGoneError, 401, 'UNAUTHENTICATED', 'Authentication required'],
  [SessionNotFoundError, 404, 'NOT_FOUND', 'Not found'],
  [TooManyRequestsError, 429, 'TOO_MANY_REQUESTS', 'Too many requests'],
  [InvalidMfaTokenError, 401, 'INVALID_MFA_TOKEN', 'Invalid MFA token'],
  [InvalidMfaCodeError, 400, 'INVALID_MFA_CODE', 'Invalid MFA code'],
  [MfaAlreadyEnabledError, 409, 'MFA_ALREADY_ENABLED', 'MFA already enabled'],
  [MfaNotEnabledError, 409, 'MFA_NOT_ENABLED', 'MFA not enabled'],
  [MfaSetupRequiredError, 409, 'MFA_SETUP_REQUIRED', 'MFA setup required'],
  [ReauthenticationRequiredError, 401, 'REAUTHENTICATION_REQUIRED', 'Re-authentication required'],
  [UnknownOidcProviderError, 404, 'NOT_FOUND', 'Not found'],
  [IdentityNotFoundError, 404, 'NOT_FOUND', 'Not found'],
  [RedirectUriNotAllowedError, 400, 'REDIRECT_URI_NOT_ALLOWED', 'Redirect URI not allowed'],
  [PkceRequiredError, 400, 'PKCE_REQUIRED', 'PKCE required'],
  [LastSignInMethodError, 409, 'LAST_SIGN_IN_METHOD', 'Last sign-in method'],
  [OidcProviderUnavailableError, 503, 'PROVIDER_UNAVAILABLE', 'Identity provider unavailable'],
  [MalformedJsonError, 400, 'MALFORMED_REQUEST', 'Malformed request'],
  [ForbiddenJsonKeyError, 400, 'FORBIDDEN_KEY', 'Forbidden key'],
];

/**
 * Framework errors by status: the ones a client can cause. Fastify's body-parser failures arrive
 * here as HttpExceptions (400 unparseable JSON, 413 over the body limit).
 */
const HTTP_CODES: Record<number, [code: string, title: string, detail?: string]> = {
  400: ['MALFORMED_REQUEST', 'Malformed request', 'The request could not be read'],
  401: ['UNAUTHENTICATED', 'Authentication required'],
  403: ['FORBIDDEN', 'Forbidden'],
  404: ['NOT_FOUND', 'Not found'],
  405: ['METHOD_NOT_ALLOWED', 'Method not allowed'],
  406: ['NOT_ACCEPTABLE', 'Not acceptable'],
  413: ['PAYLOAD_TOO_LARGE', 'Payload too large', 'The request body exceeds 16 KiB'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send application/json'],
  429: ['TOO_MANY_REQUESTS', 'Too many requests'],
};

/** Maps anything thrown to a problem document; internals never reach the client. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ValidationFailedException) {
    return problem(400, 'VALIDATION_FAILED', 'Validation failed', 'The request body is invalid', error.errors);
  }
  // Whether a password is expected depends on the token, so it is judged below the edge.
  if (error instanceof ConfirmationPasswordError) {
    return problem(400, 'VALIDATION_FAILED', 'Validation failed', 'The request body is invalid', [{ field: 'password', message: error.message }]);
  }
  if (error instanceof SameEmailError) {
    return problem(400, 'VALIDATION_FAILED', 'Validation failed', 'The request body is invalid', [{ field: 'newEmail', message: error.message }]);
  }
  // The one problem with an extension member: the second step of the sign-in it asks for.
  if (error instanceof MfaRequiredError) return { ...problem(401, 'MFA_REQUIRED', 'MFA required', error.message), mfaToken: error.mfaToken };
  for (const [type, status, code, title] of DOMAIN_ERRORS) {
    if (error instanceof type) return problem(status, code, title, error.message);
  }
  if (error instanceof HttpException && error.getStatus() < 500) {
    const status = error.getStatus();
    const [code, title, detail] = HTTP_CODES[status] ?? ['BAD_REQUEST', 'Bad request'];
    return problem(status, code, title, detail);
  }
  if (isDatabaseUnavailable(error)) {
    return problem(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', 'A dependency is unavailable; try again shortly');
  }
  return problem(500, 'INTERNAL_ERROR', 'Internal error', 'An unexpected error occurred');
}

/** Whether an error means PostgreSQL is unreachable: the API answers 503, and so do the pages. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseUnavailableReason(error) !== undefined;
}

/** How long a client should wait after a 503 before trying again. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 5;

/**
 * Logs the cause of a 5xx answer (API or page) without its internals: an outage of PostgreSQL as
 * one warning from a fixed list, anything else through describeForLog.
 */
export function logServerFailure(logger: Logger, error: unknown, status: number): void {
  if (error instanceof OidcProviderUnavailableError) logger.warn('Dependency unavailable: identity provider');
  else if (status === 503) logger.warn(`Dependency unavailable: PostgreSQL (${databaseUnavailableReason(error) ?? 'unknown'})`);
  else if (status >= 500) logger.error(describeForLog(error));
}

/** Why PostgreSQL counts as unavailable, from a fixed list (never the error's own text), or undefined. */
function databaseUnavailableReason(error: unknown): string | undefined {
  if (error instanceof ConnectionException) return 'ConnectionException';
  const name = (error as { name?: unknown })?.name;
  const code = String((error as { code?: unknown })?.code);
  if (name === 'KnexTimeoutError') return 'no free connection in time';
  // Server gone or starting, connection lost; a statement cut off by statement_timeout or chosen as
  // a deadlock victim is worth the same "try again shortly".
  if (error instanceof DriverException && ['57P01', '57P03', '08006', '08001', '08003', '57014', '40P01'].includes(code)) return `SQLSTATE ${code}`;
  // Socket codes; a silent or closed connection carries one too (libs/database/src/database.socket.ts).
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return code;
  return undefined;
}

/**
 * What a log line may say about an error. A driver error's message and the first line of its stack
 * start with the SQL and its bound values (addresses, password and token hashes), so only its class,
 * SQLSTATE, the table and constraint, and the stack frames are kept.
 */
export function describeForLog(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!(error instanceof DriverException)) return error.stack ?? error.message;
  const details = error as DriverException & { table?: unknown; constraint?: unknown; routine?: unknown };
  const facts = [
    `SQLSTATE ${details.code ?? 'unknown'}`,
    typeof details.table === 'string' ? `table ${details.table}` : undefined,
    typeof details.constraint === 'string' ? `constraint ${details.constraint}` : undefined,
    typeof details.routine === 'string' ? `routine ${details.routine}` : undefined,
  ].filter(Boolean);
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
  return `${error.name} (${facts.join(', ')}; statement and values withheld)${frames ? `\n${frames}` : ''}`;
}

/** Every error leaves as a problem document; 5xx causes are logged, never sent. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = toProblem(error);
    logServerFailure(this.logger, error, body.status);
    if (error instanceof TooManyRequestsError) reply.header('Retry-After', String(error.retryAfterSeconds));
    sendProblem(reply, body);
  }
}

export function sendProblem(reply: FastifyReply, body: Problem): void {
  if (body.status === HttpStatus.UNAUTHORIZED && body.code === 'UNAUTHENTICATED') reply.header('WWW-Authenticate', 'Bearer');
  if (body.status === 503) reply.header('Retry-After', String(RETRY_AFTER_UNAVAILABLE_SECONDS));
  reply.header('Cache-Control', 'no-store').status(body.status).type('application/problem+json').send(body);
}
