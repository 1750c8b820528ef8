/**
 * What a log line may say of a knex notice. Knex writes an error as `Connection Error: ${error}`,
 * and a query's error message starts with its SQL, with the bound values (addresses, password and
 * token hashes) already written in by MikroORM: only the notice's own label and the error's class
 * and code are kept.
 */
export function withoutStatement(message: unknown): string {
  if (message instanceof Error) return describe(message);
  const text = String(message);
  const label = /^[A-Z][A-Za-z ]{0,40}:/.exec(text)?.[0];
  const error = /\b([A-Z][A-Za-z]*Error)\b/.exec(text)?.[1];
  return [label ?? 'Database notice:', error ?? '', '(details withheld)'].filter(Boolean).join(' ');
}

function describe(error: Error & { code?: unknown }): string {
  return `${error.name}${typeof error.code === 'string' ? ` (${error.code})` : ''} (details withheld)`;
}
