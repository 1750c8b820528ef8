#!/usr/bin/env node
// `npm start`: the whole system for a newcomer. Migrates (creating the database if missing), then
// runs the API and one mail worker from the build, and stops both when either stops or on Ctrl-C.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'apps');
const entry = {
  migrate: path.join(dist, 'api', 'apps', 'api', 'src', 'migrate.js'),
  api: path.join(dist, 'api', 'apps', 'api', 'src', 'main.js'),
  worker: path.join(dist, 'mail-worker', 'apps', 'mail-worker', 'src', 'main.js'),
};

// Unset NODE_ENV means production (secrets required, .env ignored); a newcomer's `npm start` is
// development unless told otherwise.
const env = { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' };

const migrated = spawnSync(process.execPath, [entry.migrate], { stdio: 'inherit', env });
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

const children = [spawn(process.execPath, [entry.api], { stdio: 'inherit', env }), spawn(process.execPath, [entry.worker], { stdio: 'inherit', env })];
let exitCode;

for (const child of children) {
  child.on('exit', (code, signal) => {
    if (exitCode === undefined) {
      exitCode = code ?? (signal ? 1 : 0);
      for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
    }
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    exitCode ??= 0;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  });
}
