/**
 * What a log line may say of a knex notice. Knex writes an error as `Connection Error: ${error}`,
 * and a query's error message starts with its SQL, with the bound values (addresses, password and
 * token hashes) already written in by MikroORM: only the notice's own label and the error's class
 * and code are kept.
 */
export function withoutStatement(message: unknown): string {
  if (message instanceof Error) return describe(message);
  // Only `Label: ErrorClass:` at the very start is knex's own; anything later may be a value.
  const text = String(message);
  const known = /^([A-Z][A-Za-z ]{0,40}): ([A-Z][A-Za-z]*Error)(?::|$)/.exec(text);
  if (known) return `${known[1]}: ${known[2]} (details withheld)`;
  const label = /^([A-Z][A-Za-z ]{0,40}):/.exec(text)?.[1];
  return `${label ?? 'Database notice'} (details withheld)`;
}

function describe(error: Error & { code?: unknown }): string {
  return `${error.name}${typeof error.code === 'string' ? ` (${error.code})` : ''} (details withheld)`;
}
