/**
 * Part of one SQL statement: text with `?` placeholders and their values, in order. The hot paths
 * compose their writes into one statement (`with … as (insert … select … from <source>)`), so a
 * request costs one round trip to PostgreSQL instead of a transaction of several.
 */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/**
 * The name of the rows a fragment selects from (a CTE of the statement it joins), checked: a
 * fragment is composed as text, and only a constant name of ours may go there, never input.
 */
export function sourceName(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`Not a CTE name: ${JSON.stringify(name)}`);
  return name;
}
