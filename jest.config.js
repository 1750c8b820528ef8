// Two projects in one run (`npm test`): unit specs beside the code, which need no database and run
// in seconds (`npm run test:unit`), and end-to-end specs in apps/<app>/test and test/, which get the
// test environment and a migrated database first.
const swc = require('./test/support/swc-options');

const aliases = Object.fromEntries(
  ['config', 'database', 'database/migrate', 'redis', 'users', 'tokens', 'auth', 'mail/contract', 'mail/outbox', 'mail/delivery'].map((entry) => {
    const [lib, part] = entry.split('/');
    return [`^@accounts/${entry}$`, `<rootDir>/libs/${lib}/src${part ? `/${part}` : ''}`];
  }),
);

// ESM-only packages the API requires (Node 20.19+ can require() them; jest's loader cannot), so
// @swc/jest compiles them to CommonJS like our sources.
const ESM_PACKAGES = ['openid-client', 'oauth4webapi', 'jose'];

const common = {
  rootDir: __dirname,
  // Node, with the apps' JSON log lines sent to test/artifacts/logs/ (see the file).
  testEnvironment: '<rootDir>/test/support/test-environment.js',
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    [`/node_modules/(${ESM_PACKAGES.join('|')})/.+\\.js$`]: ['@swc/jest', swc],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: aliases,
};

module.exports = {
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e-spec.ts', '<rootDir>/test/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/support/test-env.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
