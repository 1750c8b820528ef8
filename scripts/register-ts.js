// Lets a plain `node` run the TypeScript sources, the way jest does (@swc/core, same options), with
// the tsconfig path aliases (@accounts/*). `npm run dev` runs both apps this way (no build, so a
// restart takes seconds), and the fault tests start a mail worker as its own OS process:
//   node -r ./scripts/register-ts.js apps/mail-worker/src/main.ts
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');
const tsconfigPaths = require('tsconfig-paths');

const root = join(__dirname, '..');
const swcOptions = { ...require('../test/support/swc-options'), swcrc: false, configFile: false };

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename });
  module._compile(code, filename);
};

const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
tsconfigPaths.register({ baseUrl: root, paths: compilerOptions.paths, addMatchAll: false });
