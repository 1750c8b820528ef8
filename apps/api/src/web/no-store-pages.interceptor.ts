import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/**
 * Every page answer is personal (CSRF secrets, session cookies, tokens in forms, signed-in data):
 * no cache, shared or not, may keep one. A route that declares a Cache-Control of its own (the
 * stylesheet) keeps it. Errors get theirs from PageErrorsFilter.
 */
@Injectable()
export class NoStorePages implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
    return next.handle();
  }
}
