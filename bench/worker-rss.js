'use strict';
// `npm run bench:worker-rss`: the built mail worker's idle resident memory. Starts
// dist/.../mail-worker/.../main.js with SMTP_URL unset (it writes .eml files), waits for it to settle,
// reads VmRSS from /proc and stops it. Needs `npm run build` and a Redis at REDIS_URL. Linux only.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { withNodeOptions } = require('../scripts/node-options');

const SETTLE_MS = Number(process.env.SETTLE_MS ?? 10_000);
const entry = path.join(__dirname, '..', 'dist', 'apps', 'mail-worker', 'apps', 'mail-worker', 'src', 'main.js');

if (!fs.existsSync(entry)) {
  process.stderr.write(`worker-rss: ${entry} is missing; run npm run build first\n`);
  process.exit(1);
}
const child = spawn(process.execPath, [entry], {
  // With production's V8 heap settings (scripts/node-options.js).
  env: withNodeOptions('worker', {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    APP_URL: 'https://accounts.example.com',
    MAIL_FROM: 'Accounts <no-reply@example.com>',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `worker-rss-${process.pid}`,
    PAYLOAD_KEY: randomBytes(32).toString('base64'),
    WORKER_PORT: '0',
    MAIL_OUTBOX_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'worker-rss-')),
  }),
  stdio: ['ignore', 'ignore', 'inherit'],
});
child.on('exit', (code) => {
  if (!settled) {
    process.stderr.write(`worker-rss: the worker exited (${code}) before it settled\n`);
    process.exit(1);
  }
});
let settled = false;
setTimeout(() => {
  settled = true;
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)[1]);
  process.stdout.write(`mail worker idle RSS after ${SETTLE_MS / 1000} s: ${(kib / 1024).toFixed(1)} MiB\n`);
  child.kill('SIGTERM');
}, SETTLE_MS);
