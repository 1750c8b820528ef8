import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TooManyRequestsError } from '@accounts/auth';
import { InvalidCsrfTokenError, retryDelayInWords } from './page-support';

/** Pages answer in HTML and in words, never with a problem document or a raw code. */
@Catch()
export class PageErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, title, message] = this.describe(error);
    if (error instanceof TooManyRequestsError) reply.header('Retry-After', String(error.retryAfterSeconds));
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
    this.logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
    return [500, 'Something went wrong', 'Something went wrong on our side. Please try again in a moment.'];
  }
}
