'use strict';
// A floor under every authenticated request: the session check and the user it speaks for as one
// indexed query, straight through a `pg` pool of the API's size with the load's concurrency. No
// HTTP, no framework, no ORM. An API that checks its session in PostgreSQL on every request (as the
// spec requires) cannot answer faster than this on the same machine.
const { performance } = require('node:perf_hooks');
const { Pool } = require('pg');

const SQL = `select u.id, u.email, u.name, u.email_confirmed_at, u.created_at
               from sessions s join users u on u.id = s.user_id
              where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()`;
let pool;

async function measure({ url, poolSize, concurrency, seconds, warmupSeconds, pairs }) {
  pool ??= new Pool({ connectionString: url, max: poolSize });
  const windowStart = performance.now() + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  let counted = 0;
  let next = 0;
  const loop = async () => {
    while (performance.now() < windowEnd) {
      const [sessionId, userId] = pairs[next++ % pairs.length];
      const { rows } = await pool.query(SQL, [sessionId, userId]);
      if (rows.length !== 1) throw new Error('session not alive');
      const at = performance.now();
      if (at >= windowStart && at < windowEnd) counted += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { queries: counted, seconds, queriesPerSecond: counted / seconds };
}

process.on('message', (message) => {
  if (!message || message.cmd !== 'measure') return;
  measure(message)
    .then((result) => process.send({ id: message.id, ...result }))
    .catch((error) => process.send({ id: message.id, error: error.message }));
});
process.send({ type: 'ready' });
