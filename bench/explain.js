#!/usr/bin/env node
'use strict';
// EXPLAIN (ANALYZE, BUFFERS) of the hot queries of the benchmarked paths, against the database the
// last `npm run bench` left behind (BENCH_DATABASE_URL, default .../accounts_bench), with real
// values taken from its tables. Writes run inside a transaction that is rolled back.
//
//   node bench/explain.js            # a summary line per query
//   node bench/explain.js --plans    # the full plans too
const { Client } = require('pg');

const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/accounts_bench';
const SHOW_PLANS = process.argv.includes('--plans');

async function main() {
  const host = new URL(DATABASE_URL).hostname;
  if (!/^(127\.\d+\.\d+\.\d+|localhost)$/.test(host)) throw new Error(`${DATABASE_URL} is not on this machine`);
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  try {
    const sizes = await pg.query(
      `select relname as table, n_live_tup as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
         from pg_stat_user_tables where relname in ('users', 'sessions', 'refresh_tokens', 'one_time_tokens', 'outbox') order by relname`,
    );
    console.log('tables:', sizes.rows.map((r) => `${r.table} ${r.rows} rows (${r.size})`).join(', '));
    const session = (await pg.query('select id, user_id from sessions where revoked_at is null order by created_at desc limit 1')).rows[0];
    if (!session) throw new Error('no live session in the database: run `npm run bench` (with the signin or read phase) first');
    const user = (await pg.query('select id, email_canonical from users where id = $1', [session.user_id])).rows[0];
    const token = (await pg.query('select token_hash from refresh_tokens order by created_at desc limit 1')).rows[0];
    const queries = [
      ['bearer check (JwtAuthGuard -> SessionsService.isAlive)', 'select 1 from sessions where id = $1 and user_id = $2 and revoked_at is null and expires_at > now()', [session.id, session.user_id]],
      ['GET /users/me user (AuthService.me -> em.findOneOrFail)', 'select u0.* from users as u0 where u0.id = $1 limit 1', [user.id]],
      [
        'proposed: bearer check and user in one query',
        `select u.id, u.email, u.name, u.email_confirmed_at, u.created_at from sessions s join users u on u.id = s.user_id
          where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()`,
        [session.id, session.user_id],
      ],
      ['sign-in / forgot: user by address (findByEmail)', 'select u0.* from users as u0 where u0.email_canonical = $1 limit 1', [user.email_canonical]],
      ['refresh: spend the token (rotate)', 'update refresh_tokens set used_at = now() where token_hash = $1 and used_at is null returning session_id', [token.token_hash], true],
      ['refresh: session with its user', 'select s0.*, u1.* from sessions as s0 left join users as u1 on s0.user_id = u1.id where s0.id = $1 limit 1', [session.id]],
      ['forgot: supersede outstanding reset tokens', "update one_time_tokens set used_at = now() where user_id = $1 and purpose = 'password_reset' and used_at is null", [user.id], true],
      [
        'outbox relay: next batch',
        'select o0.* from outbox as o0 where o0.published_at is null order by o0.created_at asc limit 100 for update skip locked',
        [],
        true,
      ],
    ];
    for (const [label, sql, params, write] of queries) {
      if (write) await pg.query('begin');
      try {
        // Warm: the first execution of a statement pays for planning and cold buffers.
        await pg.query(`explain (analyze, buffers, format json) ${sql}`, params);
        const { rows } = await pg.query(`explain (analyze, buffers, format json) ${sql}`, params);
        const [result] = rows[0]['QUERY PLAN'];
        const nodes = [];
        const walk = (n) => {
          nodes.push(`${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`);
          for (const child of n.Plans ?? []) walk(child);
        };
        walk(result.Plan);
        console.log(
          `${label}\n  planning ${result['Planning Time'].toFixed(3)} ms, execution ${result['Execution Time'].toFixed(3)} ms, ` +
            `shared buffers hit ${result.Plan['Shared Hit Blocks'] ?? 0}, read ${result.Plan['Shared Read Blocks'] ?? 0}: ${nodes.join(' > ')}`,
        );
        if (SHOW_PLANS) {
          const text = await pg.query(`explain (analyze, buffers) ${sql}`, params);
          console.log(text.rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n'));
        }
      } finally {
        if (write) await pg.query('rollback');
      }
    }
  } finally {
    await pg.end();
  }
}

main().catch((error) => {
  console.error(`explain: ${error.message}`);
  process.exit(1);
});
