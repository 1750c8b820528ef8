// One jest run: unit specs beside the code, end-to-end specs in apps/<app>/test and test/.
const swc = require('./test/support/swc-options');

const aliases = Object.fromEntries(
  ['config', 'database', 'redis', 'users', 'tokens', 'auth', 'mail/contract', 'mail/outbox', 'mail/delivery'].map((entry) => {
    const [lib, part] = entry.split('/');
    return [`^@accounts/${entry}$`, `<rootDir>/libs/${lib}/src${part ? `/${part}` : ''}`];
  }),
);

module.exports = {
  rootDir: __dirname,
  // Node, with the apps' JSON log lines sent to test/artifacts/logs/ (see the file).
  testEnvironment: '<rootDir>/test/support/test-environment.js',
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: aliases,
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.{spec,e2e-spec}.ts'],
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30_000,
};
