import { join } from 'node:path';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import handlebars from 'handlebars';
import { appConfig, createNestApp, databaseConfig, httpConfig, redactUrl, validateConfig } from '@accounts/config';
import { databaseUnreachableReason } from '@accounts/database';
import { API_PREFIX } from './api-prefix.constant';
import { API_CONFIG, ApiModule } from './api.module';
import { serveDocs } from './ops/docs/openapi.docs';
import { parseJsonBody } from './http/json-body.parser';
import { problem } from './http/problem.document';
import { sendProblem } from './http/problem-details.filter';
import { ApiLogController, echoRequestId, logAbandonedRequests, requestIdFor, requestLogger } from './http/request-logging.config';
import { countHttpRequests } from './ops/metrics/http.metrics';

export const BODY_LIMIT_BYTES = 16 * 1024;

/** The API cannot start; the message is the one line an operator sees. */
export class ApiStartupError extends Error {
  override readonly name = 'ApiStartupError';
}

/**
 * Builds the API application (not yet listening). main.ts and the end-to-end tests share it, so
 * tests exercise exactly what production runs. Rejects with a ConfigError or ApiStartupError.
 */
export async function createApiApp(): Promise<NestFastifyApplication> {
  await preflight();
  const http = httpConfig();
  const app_ = appConfig();
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: http.trustProxy > 0 ? http.trustProxy : false,
    // The caller's X-Request-Id when sane, else a UUID; echoed, and on every log line of the request.
    genReqId: requestIdFor,
    requestIdHeader: false,
    // The request's logger, and its one line (ApiLogController).
    loggerInstance: requestLogger(app_.logLevel),
    logController: new ApiLogController(),
    // Errors the router raises before Nest sees the request leave as problem documents too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) =>
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendProblem(reply, problem(414, 'URI_TOO_LONG', 'URI too long'))
        : sendProblem(reply, problem(400, 'MALFORMED_REQUEST', 'Malformed request', 'The request URL is invalid')),
  });
  const app = await createNestApp<NestFastifyApplication>(ApiModule, adapter);
  // Nest's body parsers (the pages' urlencoded forms), with ours for JSON in place of Nest's: it
  // names a forbidden __proto__ / constructor.prototype key instead of calling the body invalid JSON.
  adapter.registerParserMiddleware();
  adapter.getInstance().removeContentTypeParser('application/json');
  adapter.getInstance().addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, parseJsonBody);
  // Before every other hook, so refusals carry their request id and are counted too.
  echoRequestId(app);
  logAbandonedRequests(app);
  countHttpRequests(app);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    strictTransportSecurity: app_.isProduction,
  });
  // After helmet, so the refusal carries the security headers too.
  app.getHttpAdapter().getInstance().addHook('onRequest', (request, reply, done) => {
    if (!isApiRequestWithNonJsonBody(request)) return done();
    sendProblem(reply, problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send application/json'));
  });
  // Browser sessions and CSRF secrets of the pages (apps/api/src/web).
  await app.register(cookie);
  // Swagger UI and /docs/openapi.json, with a CSP of their own for /docs only.
  serveDocs(app);
  if (http.corsOrigins.length > 0) app.enableCors({ origin: http.corsOrigins, credentials: false, maxAge: 600 });
  app.setViewEngine({
    engine: { handlebars },
    templates: join(__dirname, 'web', 'views'),
    layout: 'layout.hbs',
    // The identity-provider buttons of /login and /register.
    options: { partials: { providers: 'partials/providers.hbs', 'current-password': 'partials/current-password.hbs' } },
    defaultContext: { appName: app_.name },
  });
  return app;
}

/**
 * Validates every namespace and reaches PostgreSQL before Nest builds anything: inside Nest a
 * failing config factory does not stop the providers that depend on it, and a database error
 * would arrive as a stack trace.
 */
async function preflight(): Promise<void> {
  validateConfig(API_CONFIG);
  const { url } = databaseConfig();
  const reason = await databaseUnreachableReason(url);
  if (reason === undefined) return;
  if (/does not exist/.test(reason)) {
    throw new ApiStartupError(`${reason} at ${redactUrl(url)}; create and migrate it with: npm run db:migrate`);
  }
  throw new ApiStartupError(`cannot reach PostgreSQL at ${redactUrl(url)} (${reason}); is it running? Try: docker compose up -d postgres`);
}

/**
 * Decided by the route Fastify matched, not the raw URL: the router decodes the path, so
 * `/%61pi/v1/...` reaches an API route without starting with `/api/`.
 */
function isApiRequestWithNonJsonBody(request: FastifyRequest): boolean {
  if (!request.routeOptions.url?.startsWith(`/${API_PREFIX}/`)) return false;
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return false;
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type !== 'application/json';
}
