#!/usr/bin/env node
// `npm start`: the whole system for a newcomer. Builds when dist/ is older than the sources,
// migrates (creating the database if missing), then runs the API and one mail worker from the build.
// `npm run dev` (--watch): the same from the TypeScript sources, each app restarted by `node
// --watch` a moment after one of its files changes (no build; .env is read again at each restart).
//
// This process is the one a supervisor, `kill <pid>` or Ctrl-C signals: package.json runs it with
// `exec`, so npm's shell becomes it instead of dying alone on npm's forwarded signal. It passes
// SIGINT/SIGTERM on to whatever runs (the build, the migration, the apps) and exits once all of
// them have. In development, on a terminal, the JSON logs are shown as text.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { ROOT, ENTRIES, staleBuild } = require('./build-state');
const { withNodeOptions } = require('./node-options');

const watch = process.argv.includes('--watch');
const name = watch ? 'dev' : 'start';

// Unset NODE_ENV means production (secrets required, .env ignored); a newcomer's `npm start` is
// development unless told otherwise.
const env = { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' };

const fromSources = ['-r', path.join(ROOT, 'scripts', 'register-ts.js')];
const commands = watch
  ? {
      migrate: [process.execPath, ...fromSources, path.join(ROOT, 'apps', 'api', 'src', 'migrate.ts')],
      api: [process.execPath, '--watch', ...fromSources, path.join(ROOT, 'apps', 'api', 'src', 'main.ts')],
      worker: [process.execPath, '--watch', ...fromSources, path.join(ROOT, 'apps', 'mail-worker', 'src', 'main.ts')],
    }
  : { migrate: [process.execPath, ENTRIES.migrate], api: [process.execPath, ENTRIES.api], worker: [process.execPath, ENTRIES.worker] };

const pretty = env.NODE_ENV === 'development' && process.stdout.isTTY ? prettyPrinter() : undefined;
const running = new Set();
let stopping = false;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    for (const child of running) child.kill('SIGTERM');
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${name}: ${error && error.stack ? error.stack : String(error)}\n`);
    for (const child of running) child.kill('SIGTERM');
    process.exit(1);
  },
);

async function main() {
  const stale = watch ? undefined : staleBuild();
  if (stale) {
    process.stderr.write(`${name}: building (${stale}); this takes a while\n`);
    for (const project of ['api', 'mail-worker']) {
      const built = await run([process.execPath, require.resolve('@nestjs/cli/bin/nest.js'), 'build', project]);
      if (built !== 0) return stopping ? 0 : built;
    }
  }
  if (stopping) return 0;
  const migrated = await run(commands.migrate);
  if (migrated !== 0 || stopping) return stopping ? 0 : migrated;

  // Either app stopping stops the other: a half-running system is worse than a clear exit.
  // With the V8 heap settings of production (scripts/node-options.js); the build and the migration
  // run with Node's defaults.
  const apps = [start(commands.api, withNodeOptions('api', env)), start(commands.worker, withNodeOptions('worker', env))];
  const first = await Promise.race(apps.map((app) => app.exited));
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(apps.map((app) => app.exited));
  return stopping ? 0 : first;
}

/** Runs one command to its end; resolves with its exit code (1 when a signal ended it). */
function run(command) {
  return start(command).exited;
}

function start([file, ...args], childEnv = env) {
  const child = spawn(file, args, { cwd: ROOT, env: childEnv, stdio: ['inherit', pretty ? 'pipe' : 'inherit', 'inherit'] });
  running.add(child);
  if (pretty) readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => pretty.write(`${line}\n`));
  const exited = new Promise((resolve) => {
    // 'close' rather than 'exit': its last log lines have been read by then.
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? 1 : 0));
    });
    child.once('error', (error) => {
      running.delete(child);
      process.stderr.write(`${name}: cannot run ${file}: ${error.message}\n`);
      resolve(1);
    });
  });
  return { child, exited };
}

/**
 * pino-pretty (a dev dependency) in this process, so the apps keep writing JSON without blocking;
 * lines that are not JSON pass through. Without it (a production install) the JSON is shown as is.
 */
function prettyPrinter() {
  try {
    return require('pino-pretty')({
      colorize: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      messageFormat: '{app} {if context}[{context}] {end}{msg}',
      // Said by the message already (a request's line names method, path, status and time).
      ignore: 'pid,hostname,app,context,req,res,responseTime',
      sync: true,
    });
  } catch {
    return undefined;
  }
}
