#!/usr/bin/env node
// `npm run compose:secrets [-- --force] [-- --file path]`: writes a .env with fresh random secrets
// for docker-compose.yml (which reads .env for its ${...} values) and the matching URLs for
// `npm start` (which reads .env in development), so the compose services and the processes on the
// host agree. Mode 0600; an existing file is kept unless --force is given. Host ports overridden in
// the environment (POSTGRES_PORT, REDIS_PORT, MAILPIT_SMTP_PORT, MAILPIT_UI_PORT, API_PORT, API_OPS_PORT) are
// written too, so compose and the URLs keep agreeing.
'use strict';
const { randomBytes } = require('node:crypto');
const { renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const PORTS = { POSTGRES_PORT: '5432', REDIS_PORT: '6379', MAILPIT_SMTP_PORT: '1025', MAILPIT_UI_PORT: '8025', API_PORT: '3000', API_OPS_PORT: '3002' };

/** The variables of the file. Passwords are hex so they need no escaping inside a URL. */
function generateSecrets(env = process.env) {
  const overridden = Object.fromEntries(Object.keys(PORTS).filter((name) => env[name]).map((name) => [name, env[name]]));
  for (const [name, value] of Object.entries(overridden)) {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`${name} must be a port number (got "${value}")`);
  }
  const port = (name) => overridden[name] ?? PORTS[name];
  const postgresPassword = randomBytes(24).toString('hex');
  const redisPassword = randomBytes(24).toString('hex');
  return {
    ...overridden,
    POSTGRES_PASSWORD: postgresPassword,
    REDIS_PASSWORD: redisPassword,
    JWT_SECRET: randomBytes(48).toString('base64url'),
    PAYLOAD_KEY: randomBytes(32).toString('base64'),
    MFA_KEY: randomBytes(32).toString('base64'),
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    // npm start on the host, against the services compose publishes on 127.0.0.1.
    DATABASE_URL: `postgres://postgres:${postgresPassword}@127.0.0.1:${port('POSTGRES_PORT')}/accounts`,
    REDIS_URL: `redis://:${redisPassword}@127.0.0.1:${port('REDIS_PORT')}`,
    SMTP_URL: `smtp://127.0.0.1:${port('MAILPIT_SMTP_PORT')}`,
  };
}

function render(values) {
  const header = [
    `# Written by npm run compose:secrets on ${new Date().toISOString()}. Private: keep it out of git`,
    '# (it is ignored) and never reuse these values in production. docker compose takes its secrets',
    '# from here; npm start (development) reads the URLs and keys.',
  ];
  return `${[...header, ...Object.entries(values).map(([name, value]) => `${name}=${value}`)].join('\n')}\n`;
}

/** Writes the file with mode 0600; refuses to replace an existing one unless `force`. */
function writeSecretsFile(file, values, { force = false } = {}) {
  const text = render(values);
  if (!force) {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    return;
  }
  // A fresh file renamed over the old one: the secrets are never readable with the old file's mode.
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
}

function main(argv) {
  let file = path.join(__dirname, '..', '.env');
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--force') force = true;
    else if (argv[i] === '--file' && argv[i + 1]) file = path.resolve(argv[++i]);
    else {
      process.stderr.write(`compose:secrets: unknown option ${argv[i]}\nUsage: npm run compose:secrets [-- --force] [-- --file path]\n`);
      return 2;
    }
  }
  try {
    writeSecretsFile(file, generateSecrets(), { force });
  } catch (error) {
    if (error.code === 'EEXIST') {
      process.stderr.write(`compose:secrets: ${file} exists; keeping it (npm run compose:secrets -- --force replaces it, and the compose volumes keep the old database password)\n`);
      return 1;
    }
    process.stderr.write(`compose:secrets: ${error.message}\n`);
    return 1;
  }
  process.stdout.write(`compose:secrets: wrote ${file} (mode 0600). Next: docker compose up -d postgres redis mailpit && npm start\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { generateSecrets, writeSecretsFile };
