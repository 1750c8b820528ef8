import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Options as HttpLoggingOptions } from 'pino-http';

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

/** The URL as received: middleware may have trimmed `url` to what follows its mount path. */
function urlOf(request: IncomingMessage): string | undefined {
  return (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url;
}

/** The path alone: query strings can carry tokens (`/reset-password?token=…`), so none is logged. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

interface SerializedRequest {
  id: string;
  method: string;
  url: string;
  raw: IncomingMessage & { ip?: string };
}

/**
 * pino-http for the API: one line per request (method, path, status, time) and the request id on
 * every line logged while it is handled. No headers (Authorization, Cookie), no query strings
 * and no bodies are ever logged. A fresh object per app: pino-http rewrites the options it gets.
 */
export const apiRequestLogging = (): HttpLoggingOptions => ({
  quietReqLogger: true,
  customAttributeKeys: { reqId: 'requestId' },
  autoLogging: { ignore: (request) => QUIET_PATHS.test(pathOf(urlOf(request))) },
  serializers: {
    req: (request: SerializedRequest) => ({ method: request.method, url: pathOf(request.url), ip: request.raw?.ip }),
    res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
  },
  customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
  customSuccessMessage: (request, response, ms) => `${request.method} ${pathOf(urlOf(request))} ${response.statusCode} in ${ms} ms`,
  customErrorMessage: (request, response) => `${request.method} ${pathOf(urlOf(request))} ${response.statusCode} failed`,
});
