'use strict';
// Removes every Redis key under a queue prefix the benchmark made up for itself (the queue, and
// what outlives obliterate(), such as BullMQ's deduplication keys with a TTL of a day).
const { Redis } = require('ioredis');

async function removePrefix(redisUrl, prefix) {
  if (!/^(bench|ab|prof|mem)-[0-9a-f]{6}(-[AB])?$/.test(prefix)) throw new Error(`refusing to remove keys of prefix "${prefix}"`);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

module.exports = { removePrefix };

// node bench/lib/redis-cleanup.js PREFIX...: removes leftovers of interrupted runs.
if (require.main === module) {
  (async () => {
    for (const prefix of process.argv.slice(2)) console.log(prefix, await removePrefix(process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379', prefix));
  })().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
