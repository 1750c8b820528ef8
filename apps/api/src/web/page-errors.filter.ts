import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TooManyRequestsError } from '@accounts/auth';
import { isDatabaseUnavailable, logServerFailure, RETRY_AFTER_UNAVAILABLE_SECONDS } from '../http/problem-details.filter';
import { InvalidCsrfTokenError } from './browser-sessions.service';
import { retryDelayInWords } from './page-form.util';

/** Pages answer in HTML and in words, never with a problem document or a raw code. */
@Catch()
export class PageErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, title, message] = this.describe(error);
    // The API's log hygiene: a driver error's SQL and bound values never reach the log.
    logServerFailure(this.logger, error, status);
    if (error instanceof TooManyRequestsError) reply.header('Retry-After', String(error.retryAfterSeconds));
    if (status === 503) reply.header('Retry-After', String(RETRY_AFTER_UNAVAILABLE_SECONDS));
    void reply.status(status).header('Cache-Control', 'no-store').view('error', { title, message });
  }

  private describe(error: unknown): [number, string, string] {
    if (error instanceof InvalidCsrfTokenError) return [403, 'Form expired', error.message];
    if (error instanceof TooManyRequestsError) {
      return [429, 'Too many attempts', `Too many attempts from your network. Try again in ${retryDelayInWords(error)}.`];
    }
    if (error instanceof HttpException && error.getStatus() < 500) {
      return [error.getStatus(), 'Page not available', 'This page is not available.'];
    }
    if (isDatabaseUnavailable(error)) {
      return [503, 'Temporarily unavailable', 'We cannot reach our records right now. Please try again in a few seconds.'];
    }
    return [500, 'Something went wrong', 'Something went wrong on our side. Please try again in a moment.'];
  }
}
