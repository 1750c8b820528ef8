// Whether dist/ holds a build of the current sources: `npm start` and `npm run bench` build only
// when it does not.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist', 'apps');

/** The built entry points, by role. */
const ENTRIES = {
  api: path.join(DIST, 'api', 'apps', 'api', 'src', 'main.js'),
  migrate: path.join(DIST, 'api', 'apps', 'api', 'src', 'migrate.js'),
  worker: path.join(DIST, 'mail-worker', 'apps', 'mail-worker', 'src', 'main.js'),
};

/** The time of the newest file the build reads (sources, templates, views, build settings). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'test' && entry.name !== 'node_modules') walk(full);
      } else if (!/\.(spec|e2e-spec)\.ts$/.test(entry.name)) {
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
      }
    }
  };
  for (const top of ['apps', 'libs']) walk(path.join(ROOT, top));
  for (const file of ['nest-cli.json', 'tsconfig.json', 'apps/api/tsconfig.app.json', 'apps/mail-worker/tsconfig.app.json']) {
    if (fs.existsSync(path.join(ROOT, file))) newest = Math.max(newest, fs.statSync(path.join(ROOT, file)).mtimeMs);
  }
  return newest;
}

/** Why dist/ needs a build ('dist/ missing', 'dist/ older than the sources'), or undefined when it is current. */
function staleBuild() {
  const entries = Object.values(ENTRIES);
  if (entries.some((entry) => !fs.existsSync(entry))) return 'dist/ missing';
  const oldest = Math.min(...entries.map((entry) => fs.statSync(entry).mtimeMs));
  return oldest < newestSource() ? 'dist/ older than the sources' : undefined;
}

module.exports = { ROOT, DIST, ENTRIES, staleBuild };
