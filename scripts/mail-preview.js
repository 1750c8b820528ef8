#!/usr/bin/env node
// `npm run mail:preview -- [event] [--out dir]`: renders the mail templates with sample data (see
// apps/mail-worker/src/preview.ts). Runs the worker's build, building it first if there is none;
// templates in MAIL_TEMPLATES_DIR are read at each run, so editing them needs no rebuild.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const entry = path.join(root, 'dist', 'apps', 'mail-worker', 'apps', 'mail-worker', 'src', 'preview.js');

if (!existsSync(entry)) {
  process.stderr.write('mail:preview: no build of the mail worker yet; building it (npm run build does both apps)\n');
  const built = spawnSync('npx', ['nest', 'build', 'mail-worker'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

// A developer's tool that sends nothing: like npm start, development (and .env) unless told otherwise.
process.env.NODE_ENV ||= 'development';

require(entry)
  .runPreviewCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    process.stderr.write(`mail:preview: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
