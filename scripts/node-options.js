'use strict';
// The V8 heap settings the API and the mail worker run with, wherever they are started: `npm start`
// and `npm run dev` (scripts/start.js), `npm run start:api` / `start:worker` (package.json, copies),
// the image and compose (the `node` command lines in Dockerfile and docker-compose.yml, copies) and
// the benchmarks (bench/run.js, bench/ab.js, bench/worker-rss.js), so a benchmark measures what
// production runs. test/ops/node-options.spec.ts checks the copies. Why these values:
// docs/performance.md, "Memory".
//
// --max-semi-space-size: V8 lets the young generation grow to two 16 MiB semi-spaces, and both
//   processes reach that during boot and keep it: 32 MiB committed for mostly short-lived request
//   and job garbage. Smaller semi-spaces mean more scavenges: in bench/ab.js 8 MiB cost the API's
//   reads nothing measurable, 4 cost them 22 % and 2 cost 32 %; the worker's mail lost nothing at 4
//   and 24 % at 2. So 8 for the API, 4 for the worker (which idles ~10 MiB lower than at 8).
// --max-old-space-size=512: besides the ceiling, V8 scales how far the old generation may grow past
//   its live size before the next full collection with this limit: ~4x under the default limit
//   (~4 GiB here), ~1.4x under 512 MiB. The API's live heap is ~72 MiB and the worker's ~24 MiB.
//   A heap past 512 MiB ends the process (out of memory) instead of growing further.
const NODE_OPTIONS = {
  api: '--max-semi-space-size=8 --max-old-space-size=512',
  worker: '--max-semi-space-size=4 --max-old-space-size=512',
};

/** `env` for a child running `app` (api, worker): our flags first, so the caller's own NODE_OPTIONS win. */
function withNodeOptions(app, env) {
  return { ...env, NODE_OPTIONS: [NODE_OPTIONS[app], env.NODE_OPTIONS].filter(Boolean).join(' ') };
}

module.exports = { NODE_OPTIONS, withNodeOptions };
