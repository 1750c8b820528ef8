'use strict';
// Reads V8 .cpuprofile files (from `node --cpu-prof` or the benchmark's --profile) and tells where
// the main thread spent its time: self time by package and by function, time on the stack by
// package (inclusive: each package once per sample), and which package called into native code
// (socket and file writes show up as native `writeBuffer` / `writev`). Usable on its own:
//   node bench/lib/profile-summary.js bench/results/profiles/api-read-*.cpuprofile [--top=25]
const fs = require('node:fs');

const SPECIAL = new Set(['(program)', '(idle)', '(garbage collector)', '(root)']);

function summarize(files, top = 20) {
  const list = Array.isArray(files) ? files : [files];
  const self = new Map();
  const fns = new Map();
  const inclusive = new Map();
  const nativeCallers = new Map();
  let total = 0;
  let idle = 0;
  for (const file of list) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i] ?? 0;
      const id = profile.samples[i];
      const frame = byId.get(id).callFrame;
      total += dt;
      if (frame.functionName === '(idle)') idle += dt;
      const pkg = packageOf(frame);
      add(self, pkg, dt);
      const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
      add(fns, `${frame.functionName || '(anonymous)'} ${where}`.trim(), dt);
      const seen = new Set();
      let caller = null;
      for (let n = id; n !== undefined; n = parent.get(n)) {
        const f = byId.get(n).callFrame;
        if (SPECIAL.has(f.functionName)) continue;
        const p = packageOf(f);
        if (p === '(native/builtin)') continue;
        if (caller === null && p !== 'node: core') caller = p;
        seen.add(p);
      }
      for (const p of seen) add(inclusive, p, dt);
      if (pkg === '(native/builtin)') add(nativeCallers, `${frame.functionName} <- ${caller ?? 'node: core'}`, dt);
    }
  }
  const busy = total - idle;
  const rank = (map, base) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), share: Math.round((micros / base) * 1000) / 10 }));
  return {
    files: list,
    sampledMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    selfByPackage: rank(self, total),
    selfByFunction: rank(fns, total),
    onStackByPackage: rank(inclusive, busy),
    nativeByCaller: rank(nativeCallers, busy),
  };
}

function add(map, key, value) {
  map.set(key, (map.get(key) ?? 0) + value);
}

function shortUrl(url) {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const app = /\/(apps|libs)\/[^/]+\/src\/.*$/.exec(u);
  return app ? app[0].slice(1) : u;
}

function packageOf(frame) {
  const url = frame.url.replace(/^file:\/\//, '');
  // The benchmark's own hook that starts and stops the profiler (and serialises the profile).
  if (url.endsWith('/bench/lib/child-hooks.js')) return '(profiler)';
  if (!url) return SPECIAL.has(frame.functionName) ? frame.functionName : '(native/builtin)';
  if (url.startsWith('node:')) return 'node: core';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const m = /\/((apps|libs)\/[^/]+)\/src\//.exec(url);
  return m ? `app: ${m[1]}` : url;
}

function format(summary, top = 12) {
  const pct = (rows) => rows.slice(0, top).map((r) => `    ${String(r.share).padStart(5)}%  ${r.name}`);
  const name = summary.files.length === 1 ? summary.files[0] : `${summary.files[0]} (+${summary.files.length - 1} more)`;
  return [
    `${name}: ${summary.sampledMs} ms sampled, main thread busy ${summary.busyMs} ms`,
    '  self time by package (% of sampled):',
    ...pct(summary.selfByPackage),
    '  on the stack, by package (% of busy; a sample counts once per package):',
    ...pct(summary.onStackByPackage),
    '  native code by calling package (% of busy):',
    ...pct(summary.nativeByCaller),
    '  self time by function (% of sampled):',
    ...pct(summary.selfByFunction),
  ].join('\n');
}

module.exports = { summarize, format };

if (require.main === module) {
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  const top = topArg ? Number(topArg.slice(6)) : 25;
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  console.log(format(summarize(files, top), top));
}
