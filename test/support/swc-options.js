// How the tests compile TypeScript (@swc/core): shared by jest and by the fault tests that run
// the worker's sources in a process of its own (scripts/register-ts.js).
'use strict';
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
