import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ConfigType } from '@nestjs/config';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { appConfig, createRootLogger } from '@accounts/config';
import { describeForLog } from './problem-details.filter';

/** What a caller's X-Request-Id may be for us to keep it: short, and nothing that could forge a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Requests that would flood the log: probes and scrapes, every few seconds from every replica. */
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)\/?$/;

/** The caller's X-Request-Id when it is sane, else a fresh UUID (Fastify's genReqId). */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Echoes the request id on every answer, refusals included; register it before other hooks. */
export function echoRequestId(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
}

/** The path alone: query strings can carry tokens (`/reset-password?token=…`), so none is logged. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The path a request's line shows, or undefined for probes and scrapes, which get none. */
function loggedPath(request: FastifyRequest): string | undefined {
  const path = pathOf(request.originalUrl);
  return QUIET_PATHS.test(path) ? undefined : path;
}

/**
 * Fastify's own request logging, as the API wants it: `request.log`, the child logger Fastify makes
 * for each request, carries the request id as `requestId` (nestjs-pino hands it to every class
 * that logs while the request is handled), and each request gets one line when its answer has gone
 * (method, path, status, time) instead of Fastify's two. No headers (Authorization, Cookie), no
 * query strings and no bodies are ever logged; probes and scrapes get no line. It replaces
 * pino-http, whose two child loggers and three listeners per request cost more than the line itself
 * (docs/performance.md, round 4).
 */
export class ApiLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override isLogDisabled(request: FastifyRequest): boolean {
    return loggedPath(request) === undefined;
  }

  override incomingRequest(): void {
    // The line when the answer has gone says it all.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (pending.get(request.raw.socket) === reply) pending.delete(request.raw.socket);
    const path = loggedPath(request);
    if (path === undefined) return;
    const { method } = request;
    const status = reply.statusCode;
    const responseTime = Math.round(reply.elapsedTime);
    const fields = { req: request, res: reply, responseTime };
    if (error || status >= 500) request.log.error(fields, `${method} ${path} ${status} failed`);
    else request.log.info(fields, `${method} ${path} ${status} in ${responseTime} ms`);
  }
}

/**
 * The answer each connection is working on, so that a connection closing first can name its
 * request. One listener per connection rather than per request: a keep-alive connection carries
 * many requests, and a listener per request cost the read 5-10 %.
 */
const pending = new WeakMap<Socket, FastifyReply>();
const watched = new WeakSet<Socket>();

/**
 * A request whose client went away before its answer was sent gets a line too: Fastify's own line
 * (ApiLogController.requestCompleted) comes only once an answer has gone.
 */
export function logAbandonedRequests(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().addHook('onRequest', (request, reply, done) => {
    const { socket } = request.raw;
    pending.set(socket, reply);
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.once('close', () => {
        const abandoned = pending.get(socket);
        if (abandoned && !abandoned.raw.writableFinished) logAbandoned(abandoned);
      });
    }
    done();
  });
}

function logAbandoned(reply: FastifyReply): void {
  const { request } = reply;
  const path = loggedPath(request);
  if (path === undefined) return;
  const responseTime = Math.round(reply.elapsedTime);
  request.log.info({ req: request, responseTime }, `${request.method} ${path} abandoned by the client after ${responseTime} ms`);
}

/** A text with every query string cut out (`/reset-password?token=…` becomes `/reset-password`). */
export function withoutQueryStrings(text: string): string {
  return text.replace(/\?[^\s"'`)]+/g, '');
}

/**
 * The API's root logger as Fastify gets it, with how a request shows on a line (`req`): method,
 * path and client address, never a header or the query string; and an error (`err`, on Fastify's
 * own lines) as describeForLog tells it, without a statement, its values or a query string.
 */
export function requestLogger(level: ConfigType<typeof appConfig>['logLevel']): Logger {
  return createRootLogger('api', level).child({}, {
    serializers: {
      req: (request: FastifyRequest) => ({ method: request.method, url: pathOf(request.originalUrl), ip: request.ip }),
      err: (error: unknown) => withoutQueryStrings(describeForLog(error)),
    },
  });
}
