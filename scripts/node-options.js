'use strict';
// The V8 heap settings the API and the mail worker run with, wherever they are started: `npm start`
// and `npm run dev` (scripts/start.js), `npm run start:api` / `start:worker` (package.json, a copy),
// the image (Dockerfile `ENV NODE_OPTIONS`, a copy) and the benchmarks (bench/run.js, bench/ab.js,
// bench/worker-rss.js), so a benchmark measures what production runs. test/ops/node-options.spec.ts
// checks the copies. Why these values: docs/performance.md, "Memory".
//
// --max-semi-space-size=8: V8 lets the young generation grow to two 16 MiB semi-spaces, and both
//   processes reach that during boot and keep it: 32 MiB committed for mostly short-lived request
//   and job garbage. 8 MiB costs no throughput measurably; 4 cost the API's reads 22 % and 2 cost
//   them 32 % and the worker's mail 24 % (bench/ab.js, docs/performance.md "Memory").
// --max-old-space-size=512: besides the ceiling, V8 scales how far the old generation may grow past
//   its live size before the next full collection with this limit: ~4x under the default limit
//   (~4 GiB here), ~1.4x under 512 MiB. The API's live heap is ~72 MiB and the worker's ~24 MiB.
//   A heap past 512 MiB ends the process (out of memory) instead of growing further.
const NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=512';

/** NODE_OPTIONS for a child: ours first, so flags the caller set in its own NODE_OPTIONS win. */
function withNodeOptions(env) {
  return { ...env, NODE_OPTIONS: [NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' ') };
}

module.exports = { NODE_OPTIONS, withNodeOptions };
