'use strict';
// The machine's argon2id limits: verifications (sign-in) or hashes (register) per second with the
// API's parameters, on the libuv threadpool of a separate Node process (same UV_THREADPOOL_SIZE as
// the API), no HTTP, no database. Keeps `concurrency` operations in flight, like an API with that
// many requests waiting.
const { performance } = require('node:perf_hooks');
const { hash, verify } = require('@node-rs/argon2');

const options = {
  algorithm: 2, // argon2id
  memoryCost: Number(process.env.ARGON2_MEMORY_KIB || 19456),
  timeCost: Number(process.env.ARGON2_TIME_COST || 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM || 1),
};
const hashes = new Map();

async function measure({ seconds, warmupSeconds, concurrency, password, mode = 'verify' }) {
  const input = password.normalize('NFC');
  if (!hashes.has(input)) hashes.set(input, await hash(input, options));
  const phc = hashes.get(input);
  const windowStart = performance.now() + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  let counted = 0;
  const loop = async () => {
    while (performance.now() < windowEnd) {
      if (mode === 'hash') await hash(input, options);
      else if (!(await verify(phc, input))) throw new Error('verification failed');
      const at = performance.now();
      if (at >= windowStart && at < windowEnd) counted += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { operations: counted, seconds, perSecond: counted / seconds };
}

process.on('message', (message) => {
  if (!message || message.cmd !== 'measure') return;
  measure(message)
    .then((result) => process.send({ id: message.id, ...result }))
    .catch((error) => process.send({ id: message.id, error: error.message }));
});
process.send({ type: 'ready', threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE || 4) });
