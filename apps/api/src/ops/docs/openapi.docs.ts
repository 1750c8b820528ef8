import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type SchemaObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { appConfig, authConfig } from '@accounts/config';
import { NEW_PASSWORD_FIELDS } from '../../auth/dto/field-rules.decorators';
import { relaxedCsp } from '../../http/relaxed-csp.policy';
import { OpsListener } from '../ops.listener';

/** The name of the bearer scheme in the document (`@ApiBearerAuth(BEARER_AUTH)`). */
export const BEARER_AUTH = 'bearer';

export const DOCS_PATH = '/docs';
export const OPENAPI_JSON_PATH = '/docs/openapi.json';

/** Swagger UI loads its files from /docs itself and posts no form. */
const DOCS_CSP = relaxedCsp("'none'");

/** The document describes the JSON API and the health endpoints, not the HTML pages. */
const DOCUMENTED = /^\/(api\/|health\/)/;

/** Swagger UI's files we serve, from swagger-ui-dist; nothing else of that directory is reachable. */
const UI_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Starts Swagger UI on the document; a file, not an inline script, so the CSP needs no 'unsafe-inline' for scripts. */
const UI_INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_JSON_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const { name, url } = appConfig();
  const config = new DocumentBuilder()
    .setTitle(`${name} API`)
    .setDescription(
      'Sign-up, sign-in, sessions with rotating refresh tokens, email confirmation and password recovery. ' +
        'Request bodies are `application/json` (at most 16 KiB, unknown fields refused); every error is an ' +
        'RFC 9457 problem document (`application/problem+json`) with a stable `code`.',
    )
    .setVersion('1')
    .setLicense('Proprietary: all rights reserved', url)
    .addServer(url, 'The public base URL (APP_URL)')
    .addTag('auth', 'Accounts, sign-in, sessions and recovery')
    .addTag('users', 'The signed-in user')
    .addTag('operations', 'Liveness and readiness for load balancers and orchestrators')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The accessToken of a sign-in or refresh' }, BEARER_AUTH)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => DOCUMENTED.test(path)));
  // An operation without a bearer requirement is public: say so, rather than leave clients guessing.
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.post, item.put, item.patch, item.delete]) if (operation) operation.security ??= [];
  }
  // A form validated from the schema must refuse what the server refuses.
  const { passwordMinLength } = authConfig();
  for (const [schema, property] of NEW_PASSWORD_FIELDS) {
    const properties = (document.components?.schemas?.[schema] as SchemaObject | undefined)?.properties;
    const field = properties?.[property] as SchemaObject | undefined;
    if (field) field.minLength = passwordMinLength;
  }
  return document;
}

/**
 * Serves Swagger UI at /docs and the document at /docs/openapi.json, under a CSP of their own, on
 * the operators' listener (not the public port). The document is built once, here, so a decorator
 * mistake stops the start instead of a request.
 */
export function serveDocs(app: NestFastifyApplication): void {
  const { name } = appConfig();
  const json = JSON.stringify(buildOpenApiDocument(app));
  const page = uiPage(name);
  const uiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  // Read on the first request for each, not at boot: swagger-ui-bundle.js alone is 1.4 MB that a
  // process nobody opens /docs on would hold for its whole life.
  const files = new Map<string, { type: string; body?: Buffer }>(Object.entries(UI_FILES).map(([file, type]) => [file, { type }]));
  const fastify = app.get(OpsListener).server;

  const docs = (reply: FastifyReply, type: string, body: string | Buffer, cache: string) =>
    reply.header('Content-Security-Policy', DOCS_CSP).header('Cache-Control', cache).type(type).send(body);

  fastify.get(DOCS_PATH, (_request, reply) => docs(reply, 'text/html; charset=utf-8', page, 'no-cache'));
  fastify.get(OPENAPI_JSON_PATH, (_request, reply) => docs(reply, 'application/json; charset=utf-8', json, 'no-cache'));
  fastify.get(`${DOCS_PATH}/swagger-ui-init.js`, (_request, reply) => docs(reply, 'text/javascript; charset=utf-8', UI_INIT, 'no-cache'));
  fastify.get<{ Params: { file: string } }>(`${DOCS_PATH}/assets/:file`, (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) return reply.callNotFound();
    file.body ??= readFileSync(join(uiDir, request.params.file));
    return docs(reply, file.type, file.body, 'public, max-age=86400');
  });
}

function uiPage(name: string): string {
  const title = `${name} API`.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${title}</title>
  <link rel="stylesheet" href="${DOCS_PATH}/assets/swagger-ui.css">
  <link rel="stylesheet" href="${DOCS_PATH}/assets/index.css">
  <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_PATH}/assets/swagger-ui-bundle.js"></script>
  <script src="${DOCS_PATH}/assets/swagger-ui-standalone-preset.js"></script>
  <script src="${DOCS_PATH}/swagger-ui-init.js"></script>
</body>
</html>
`;
}
