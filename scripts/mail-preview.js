#!/usr/bin/env node
// `npm run mail:preview -- [event] [--out dir]`: renders the mail templates with sample data (see
// libs/mail/src/delivery/mail.preview.ts). In development (the default here, as for npm start) it runs the
// TypeScript sources, so an edit to libs/mail/src/delivery/templates shows at the next run without a
// build; otherwise it runs the worker's build, building it first if there is none. Templates in
// MAIL_TEMPLATES_DIR are read at each run either way.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');

// A developer's tool that sends nothing: development (and .env) unless told otherwise.
process.env.NODE_ENV ||= 'development';

function previewEntry() {
  if (process.env.NODE_ENV === 'development') {
    require('./register-ts');
    return path.join(root, 'apps', 'mail-worker', 'src', 'preview.ts');
  }
  const built = path.join(root, 'dist', 'apps', 'mail-worker', 'apps', 'mail-worker', 'src', 'preview.js');
  if (!existsSync(built)) {
    process.stderr.write('mail:preview: no build of the mail worker yet; building it (npm run build does both apps)\n');
    const result = spawnSync('npx', ['nest', 'build', 'mail-worker'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  return built;
}

require(previewEntry())
  .runPreviewCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    process.stderr.write(`mail:preview: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
