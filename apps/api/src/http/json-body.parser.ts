import type { FastifyRequest } from 'fastify';

/** A JSON body that does not parse. */
export class MalformedJsonError extends Error {
  override readonly name = 'MalformedJsonError';
  constructor() {
    super('The request body is not valid JSON');
  }
}

/**
 * A JSON body that parses but carries a key that could reach an object's prototype further down
 * (class-transformer, spreads, merges). The message names the key, never a value.
 */
export class ForbiddenJsonKeyError extends Error {
  override readonly name = 'ForbiddenJsonKeyError';
  constructor(readonly key: '__proto__' | 'constructor.prototype') {
    super(`The request body contains the key "${key}", which is not allowed`);
  }
}

/** The forbidden key anywhere in a parsed JSON value, or undefined. Iterative: bodies may nest deeply. */
function forbiddenKeyIn(value: unknown): ForbiddenJsonKeyError['key'] | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    // JSON.parse defines "__proto__" as an own key (it never sets the prototype), so it is seen here.
    if (Object.prototype.hasOwnProperty.call(next, '__proto__')) return '__proto__';
    const ctor = Object.prototype.hasOwnProperty.call(next, 'constructor') ? (next as { constructor: unknown }).constructor : undefined;
    if (typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return 'constructor.prototype';
    pending.push(...Object.values(next));
  }
  return undefined;
}

/**
 * The API's application/json parser (Fastify's addContentTypeParser, body as a string within the
 * body limit). Refuses what does not parse and, with its own error, bodies with a prototype key,
 * so neither reaches validation or class-transformer. A leading BOM is ignored, as before. An
 * empty body is no body: clients send `Content-Type: application/json` on a DELETE without one, and
 * a route that needs a body refuses its absence in validation.
 */
export function parseJsonBody(_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void): void {
  if (body.length === 0) return done(null, undefined);
  const text = body.toString().replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return done(new MalformedJsonError());
  }
  const key = forbiddenKeyIn(parsed);
  if (key !== undefined) return done(new ForbiddenJsonKeyError(key));
  done(null, parsed);
}
