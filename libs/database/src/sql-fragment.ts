/**
 * Part of one SQL statement: text with `?` placeholders and their values, in order. The hot paths
 * compose their writes into one statement (`with … as (insert … select … from <source>)`), so a
 * request costs one round trip to PostgreSQL instead of a transaction of several.
 */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}
