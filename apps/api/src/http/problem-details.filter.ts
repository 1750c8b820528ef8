import { ConnectionException, DriverException } from '@mikro-orm/core';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  AuthenticationRequiredError,
  EmailNotConfirmedError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  PasswordTooWeakError,
  SessionNotFoundError,
  WrongCurrentPasswordError,
} from '@accounts/auth';
import { InvalidTokenError } from '@accounts/tokens';
import { problem, ValidationFailedException, type Problem } from './problem';

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
  [SessionNotFoundError, 404, 'NOT_FOUND', 'Not found'],
];

/**
 * Framework errors by status: the ones a client can cause. Fastify's body-parser failures arrive
 * here as HttpExceptions (400 unparseable JSON, 413 over the body limit).
 */
const HTTP_CODES: Record<number, [code: string, title: string, detail?: string]> = {
  400: ['MALFORMED_REQUEST', 'Malformed request', 'The request body is not valid JSON'],
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

function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionException) return true;
  const name = (error as { name?: unknown })?.name;
  const code = (error as { code?: unknown })?.code;
  return (
    name === 'KnexTimeoutError' ||
    (error instanceof DriverException && ['57P01', '57P03', '08006', '08001', '08003'].includes(String(code))) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(String(code))
  );
}

/** Every error leaves as a problem document; 5xx causes are logged, never sent. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = toProblem(error);
    if (body.status === 503) this.logger.warn(`Dependency unavailable: ${(error as Error)?.message ?? error}`);
    else if (body.status >= 500) this.logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
    sendProblem(reply, body);
  }
}

export function sendProblem(reply: FastifyReply, body: Problem): void {
  if (body.status === HttpStatus.UNAUTHORIZED && body.code === 'UNAUTHENTICATED') reply.header('WWW-Authenticate', 'Bearer');
  if (body.status === 503) reply.header('Retry-After', '5');
  reply.header('Cache-Control', 'no-store').status(body.status).type('application/problem+json').send(body);
}
