/**
 * Checks responses the test clients saw against the OpenAPI document the API serves: a documented
 * status, a documented media type, and a body of the documented shape with no undocumented fields.
 * A small checker over the JSON Schema subset our document uses ($ref, allOf, oneOf, enum, type,
 * nullable, format, required, properties, additionalProperties, items).
 */
import type { Stack } from './stack';

/** One response as a client saw it. */
export interface SeenResponse {
  method: string;
  url: string;
  status: number;
  contentType: string;
  /** Parsed JSON for a JSON media type, else the text. */
  body: unknown;
}

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  type?: string;
  nullable?: boolean;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
}

interface ResponseObject {
  content?: Record<string, { schema: Schema }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Schema> };
}

export async function fetchOpenApiDocument(stack: Stack): Promise<OpenApiDocument> {
  const answer = await fetch(`${stack.opsUrl}/docs/openapi.json`);
  if (answer.status !== 200) throw new Error(`GET /docs/openapi.json: ${answer.status}`);
  return (await answer.json()) as OpenApiDocument;
}

/** Every response the stack's clients saw on a documented operation conforms to the document. */
export async function expectDocumentedResponses(stack: Stack): Promise<void> {
  const document = await fetchOpenApiDocument(stack);
  const seen = stack.api.seen.filter((response) => response.url.startsWith(stack.api.baseUrl));
  expect(responseViolations(document, seen, stack.api.baseUrl)).toEqual([]);
}

/** The documented path template a request URL falls under, or undefined. */
export function pathTemplateOf(document: OpenApiDocument, url: string, baseUrl: string): string | undefined {
  const path = new URL(url, baseUrl).pathname;
  return Object.keys(document.paths).find((template) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`).test(path),
  );
}

/** What is wrong with each response on a documented operation; responses elsewhere are not judged. */
export function responseViolations(document: OpenApiDocument, seen: SeenResponse[], baseUrl: string): string[] {
  const violations: string[] = [];
  for (const response of seen) {
    const template = pathTemplateOf(document, response.url, baseUrl);
    const operation = template ? document.paths[template][response.method.toLowerCase()] : undefined;
    if (!template || !operation) continue;
    const where = `${response.method} ${template} ${response.status}`;
    const documented = operation.responses[String(response.status)];
    if (!documented) {
      violations.push(`${where}: status not documented`);
      continue;
    }
    const mediaType = response.contentType.split(';')[0].trim().toLowerCase();
    if (!documented.content) {
      if (response.body !== '' || mediaType) violations.push(`${where}: documented without a body, got ${mediaType || 'text'}`);
      continue;
    }
    const content = documented.content[mediaType];
    if (!content) {
      violations.push(`${where}: media type ${mediaType || '(none)'} not documented (${Object.keys(documented.content).join(', ')})`);
      continue;
    }
    violations.push(...schemaViolations(document, content.schema, response.body, '').map((problem) => `${where}: ${problem}`));
  }
  return [...new Set(violations)];
}

const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const target = document.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
  if (!target) throw new Error(`Unresolvable $ref ${schema.$ref}`);
  return resolve(document, target);
}

/** The properties an object schema declares, across allOf parts, and whether it admits others. */
function declared(document: OpenApiDocument, schema: Schema): { names: Set<string>; open: boolean } {
  const resolved = resolve(document, schema);
  const names = new Set(Object.keys(resolved.properties ?? {}));
  let open = Boolean(resolved.additionalProperties);
  for (const part of resolved.allOf ?? []) {
    const inner = declared(document, part);
    inner.names.forEach((name) => names.add(name));
    open ||= inner.open;
  }
  return { names, open };
}

function schemaViolations(document: OpenApiDocument, schema: Schema, value: unknown, at: string, closed = true): string[] {
  const resolved = resolve(document, schema);
  const here = at || '(body)';
  if (value === null) return resolved.nullable ? [] : [`${here} is null`];
  const problems: string[] = [];
  for (const part of resolved.allOf ?? []) problems.push(...schemaViolations(document, part, value, at, false));
  if (resolved.oneOf && resolved.oneOf.filter((option) => schemaViolations(document, option, value, at).length === 0).length !== 1) {
    problems.push(`${here} matches not exactly one of oneOf`);
  }
  if (resolved.enum && !resolved.enum.includes(value)) problems.push(`${here}: ${JSON.stringify(value)} not in enum ${JSON.stringify(resolved.enum)}`);
  switch (resolved.type) {
    case 'string':
      if (typeof value !== 'string') return [...problems, `${here} is not a string`];
      if (resolved.format && FORMATS[resolved.format] && !FORMATS[resolved.format].test(value)) problems.push(`${here} is not a ${resolved.format}`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${here} is not an integer`);
      break;
    case 'number':
      if (typeof value !== 'number') problems.push(`${here} is not a number`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${here} is not a boolean`);
      break;
    case 'array':
      if (!Array.isArray(value)) return [...problems, `${here} is not an array`];
      value.forEach((item, index) => problems.push(...schemaViolations(document, resolved.items ?? {}, item, `${at}[${index}]`)));
      break;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [...problems, `${here} is not an object`];
      const record = value as Record<string, unknown>;
      for (const name of resolved.required ?? []) if (!(name in record)) problems.push(`${at}.${name} is missing`);
      for (const [name, property] of Object.entries(resolved.properties ?? {})) {
        if (name in record) problems.push(...schemaViolations(document, property, record[name], `${at}.${name}`));
      }
      const { names, open } = declared(document, resolved);
      if (closed && !open) for (const name of Object.keys(record)) if (!names.has(name)) problems.push(`${at}.${name} is not documented`);
      break;
    }
  }
  return problems;
}
