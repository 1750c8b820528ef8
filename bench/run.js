#!/usr/bin/env node
'use strict';
// `npm run bench`: measures the account service against the physical limits of this machine, in
// one run, as ratios to baselines measured in the same run (see README, "Performance").
//
//   npm run bench                          # everything, about 2.5 minutes (plus a build if needed)
//   npm run bench -- --profile             # also CPU-profiles the API / worker in each phase
//   npm run bench -- --only=read,refresh   # some phases: signin, read, refresh, forgot, mail, e2e
//   npm run bench -- --short               # halves every phase (smoke test; not comparable)
//   npm run bench -- --build               # always rebuilds first
//
// Environment: BENCH_DATABASE_URL (default postgres://postgres:postgres@127.0.0.1:5432/accounts_bench,
// dropped and recreated), BENCH_REDIS_URL (default redis://127.0.0.1:6379). Both must be loopback
// addresses: all load goes to 127.0.0.1. App settings such as DATABASE_POOL_SIZE, LOG_LEVEL,
// MAIL_CONCURRENCY or UV_THREADPOOL_SIZE are passed through to the processes under test.
const { spawnSync } = require('node:child_process');
const { randomBytes, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Client } = require('pg');
const { Queue } = require('bullmq');
const { hash } = require('@node-rs/argon2');
const procs = require('./lib/procs');
const cpu = require('./lib/cpu');
const { percentile, mean, round, ratio } = require('./lib/stats');
const profiles = require('./lib/profile-summary');
const load = require('./lib/load');
const { removePrefix } = require('./lib/redis-cleanup');
const buildState = require('../scripts/build-state');
const { withNodeOptions } = require('../scripts/node-options');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
const LOGS = path.join(RESULTS, 'logs');
const PROFILES = path.join(RESULTS, 'profiles');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const PROFILE = flag('profile');
const SHORT = flag('short');
const FORCE_BUILD = flag('build');
const ALL_PHASES = ['signin', 'register', 'read', 'refresh', 'forgot', 'mail', 'e2e'];
const onlyArg = args.find((a) => a.startsWith('--only='));
const PHASES = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',').filter(Boolean) : ALL_PHASES);
for (const p of PHASES) if (!ALL_PHASES.includes(p)) throw new Error(`unknown phase "${p}" (phases: ${ALL_PHASES.join(', ')})`);

const scale = SHORT ? 0.5 : 1;
/**
 * Each ratio compares a target with its baseline in alternating slices (baseline, target, baseline,
 * target, ...), so that the load of other work on this shared machine, which comes and goes over
 * seconds, falls on both alike. Every slice starts with half a second that is not counted.
 */
const SECONDS = {
  warmup: 2 * scale,
  slice: 2.5 * scale,
  raw: 3 * scale,
  worker: 4 * scale,
  e2e: 10 * scale,
};
const ROUNDS = SHORT ? 2 : 4;
const MAIL_ROUNDS = SHORT ? 1 : 2;
const USERS = 200;
const PASSWORD = 'orbit lantern velvet 93';
const SIGNIN_CONNECTIONS = 16;
const HTTP_CONNECTIONS = 50;
const E2E_RATE = 50;
const MAIL_WARMUP_SECONDS = 1;
const ARGON2 = {
  memoryKib: Number(process.env.ARGON2_MEMORY_KIB || 19456),
  timeCost: Number(process.env.ARGON2_TIME_COST || 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM || 1),
};
const MAIL_CONCURRENCY = Number(process.env.MAIL_CONCURRENCY || 10);
const MAIL_ATTEMPTS = Number(process.env.MAIL_ATTEMPTS || 10);
const POOL_SIZE = Number(process.env.DATABASE_POOL_SIZE || 10);
const BARE_BASELINE =
  'bare Fastify (no Nest) verifying the same JWT with a KeyObject and running the session check and the user as ONE prepared statement through a bare pg pool of the API size, same JSON (bench/bare-app.js)';
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/accounts_bench';
const DATABASE_NAME = new URL(DATABASE_URL).pathname.replace(/^\//, '');
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

const started = performance.now();
const runId = randomBytes(3).toString('hex');
const QUEUE_PREFIX = `bench-${runId}`;
const state = { queue: null, pg: null, buildDir: null };
/** The processes under test, by role, for CPU accounting. */
const live = {};

function log(line) {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${line}\n`);
}

function assertLoopback(name, url) {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`${name} must point at this machine (127.0.0.1), not ${host}`);
  }
}

const cpuStart = () => cpu.snapshot({ procs: live, database: DATABASE_NAME });
const now = load.now;

const perUnit = load.perUnit;

// ---------------------------------------------------------------------------------------------
// Build

// Relative to dist/apps; the private copy below keeps the same layout.
const ENTRIES = Object.fromEntries(Object.entries(buildState.ENTRIES).map(([role, entry]) => [role, path.relative(buildState.DIST, entry)]));

function buildIfStale() {
  const dist = buildState.DIST;
  const stale = buildState.staleBuild();
  let built = false;
  if (FORCE_BUILD || stale) {
    log(`building (${FORCE_BUILD ? 'forced' : stale}): npm run build`);
    const t = performance.now();
    const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });
    if (result.status !== 0) throw new Error('npm run build failed');
    log(`built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    built = true;
  } else {
    log('dist/ is up to date');
  }
  // A private copy of the build, so that a colleague's `npm run build` (which empties dist/) during
  // the run cannot pull files from under the processes. It lives inside the repository so that
  // Node still resolves node_modules from it; it is removed at the end.
  state.buildDir = path.join(RESULTS, `.build-${process.pid}`);
  fs.rmSync(state.buildDir, { recursive: true, force: true });
  fs.cpSync(dist, path.join(state.buildDir, 'apps'), { recursive: true });
  return { built, entries: Object.fromEntries(Object.entries(ENTRIES).map(([k, e]) => [k, path.join(state.buildDir, 'apps', e)])) };
}

// ---------------------------------------------------------------------------------------------
// Database and queue

async function recreateDatabase(entries, env) {
  if (!/^[A-Za-z0-9_]+$/.test(DATABASE_NAME)) throw new Error(`unexpected database name "${DATABASE_NAME}"`);
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${DATABASE_NAME}" with (force)`);
  } finally {
    await client.end();
  }
  // The migrate entry creates the database and applies the migrations.
  const migrated = spawnSync(process.execPath, [entries.migrate], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrate failed: ${migrated.stderr || migrated.stdout}`);
  log(migrated.stdout.trim());
  state.pg = new Client({ connectionString: DATABASE_URL });
  await state.pg.connect();
}

function redisConnection() {
  const url = new URL(REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number(url.pathname.replace(/^\//, '') || 0),
    maxRetriesPerRequest: null,
  };
}

/** USERS confirmed accounts, inserted by SQL with real argon2id hashes (one salt each). */
async function seedUsers() {
  const options = { algorithm: 2, memoryCost: ARGON2.memoryKib, timeCost: ARGON2.timeCost, parallelism: ARGON2.parallelism };
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => ({
      id: randomUUID(),
      email: `bench-user-${i}@example.com`,
      name: `Bench User ${i}`,
      passwordHash: await hash(PASSWORD.normalize('NFC'), options),
    })),
  );
  const values = [];
  const params = [];
  users.forEach((u, i) => {
    const b = i * 5;
    values.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, now(), now(), now())`);
    params.push(u.id, u.email, u.email.toLowerCase(), u.name, u.passwordHash);
  });
  await state.pg.query(
    `insert into users (id, email, email_canonical, name, password_hash, email_confirmed_at, created_at, updated_at) values ${values.join(', ')}`,
    params,
  );
  return users;
}

// ---------------------------------------------------------------------------------------------
// HTTP load

function logHttp(name, result) {
  log(
    `${name}: ${result.requestsPerSecond} req/s (slices ${result.slices.join(', ')}), p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms` +
      (result.non2xx || result.errors ? `, non-2xx ${result.non2xx}, errors ${result.errors}` : '') +
      ` | cores ${JSON.stringify(result.cpu.cores)}`,
  );
}

/** Spread of per-round ratios, to tell a real gap from the machine's noise. */
function roundRatios(values, baselines) {
  const ratios = values.map((v, i) => ratio(v, baselines[i])).filter((v) => v !== null);
  return { perRound: ratios, min: Math.min(...ratios), max: Math.max(...ratios) };
}

/** Runs `work` with the CPU profiler on in each of `profileProcs`; the files go to `files`. */
async function profiling(profileProcs, label, files, work) {
  for (const proc of profileProcs) await procs.ask(proc, { cmd: 'profile-start' });
  const result = await work();
  for (const proc of profileProcs) {
    const file = path.join(PROFILES, `${proc.name}-${label}-${files.length}.cpuprofile`);
    await procs.ask(proc, { cmd: 'profile-stop', file });
    files.push(file);
  }
  return result;
}

function profileSummaries(files) {
  return files.length ? [profiles.summarize(files, 15)] : undefined;
}

/** Autocannon options that POST the JSON `bodyOf(i)` to `urlPath` (i counts the requests). */
function postLoad(url, urlPath, connections, bodyOf, onResponse) {
  let next = 0;
  return {
    url,
    connections,
    setupClient(client) {
      client.setRequests([
        {
          method: 'POST',
          path: urlPath,
          headers: { 'content-type': 'application/json' },
          setupRequest(req) {
            req.body = JSON.stringify(bodyOf(next++));
            return req;
          },
          ...(onResponse ? { onResponse } : {}),
        },
      ]);
    },
  };
}

function postJson(port, urlPath, body, agent) {
  return new Promise((resolve) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    req.end(data);
  });
}

/** Waits (at most 20 s) until the outbox relay has published every event. */
async function waitForRelay() {
  const relayStart = performance.now();
  let unpublished;
  for (;;) {
    unpublished = Number((await state.pg.query('select count(*) from outbox where published_at is null')).rows[0].count);
    if (unpublished === 0 || performance.now() - relayStart > 20_000) break;
    await procs.sleep(100);
  }
  return { relayCatchUpMs: Math.round(performance.now() - relayStart), unpublishedAfterCatchUp: unpublished };
}

// ---------------------------------------------------------------------------------------------
// Mail

async function sinkCount(sink) {
  return (await procs.ask(sink, { cmd: 'stats' })).count;
}

/** Messages the sink accepts between `warm` and `warm + seconds` from now, with CPU use. */
async function measureSinkWindow(sink, seconds, warm = MAIL_WARMUP_SECONDS) {
  await procs.sleep(warm * 1000);
  const a = await procs.ask(sink, { cmd: 'stats' });
  const usageStart = cpuStart();
  await procs.sleep(seconds * 1000);
  const b = await procs.ask(sink, { cmd: 'stats' });
  const usage = cpu.since(usageStart);
  const emailsPerSecond = round(((b.count - a.count) * 1000) / (b.at - a.at), 1);
  usage.msPerEmail = perUnit(usage, emailsPerSecond, ['worker1', 'worker1.main', 'worker1.main.sys', 'worker2', 'raw', 'raw.main', 'sink', 'redis']);
  return { emails: b.count - a.count, seconds: round((b.at - a.at) / 1000, 3), emailsPerSecond, cpu: usage };
}

async function waitForSinkQuiet(sink, quietMs = 500, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await sinkCount(sink);
  for (;;) {
    await procs.sleep(quietMs);
    const count = await sinkCount(sink);
    if (count === last || Date.now() > deadline) return count;
    last = count;
  }
}

/** The API's own PayloadSealer, from the build under test. */
function makeSealer(buildDir, key) {
  const { PayloadSealer } = require(path.join(buildDir, 'apps/api/libs/mail/src/contract/payload.sealer.js'));
  return new PayloadSealer({ key: Buffer.from(key, 'base64') });
}

/**
 * Enqueues `count` password.reset-requested jobs straight into BullMQ, as the outbox relay would
 * publish them: job name = event name, job id = event id, payload v1 with the reset token sealed
 * under the workers' PAYLOAD_KEY and bound to the event id, the API's default job options.
 */
async function enqueueResetJobs(queue, sealer, users, count) {
  const chunk = 1000;
  for (let done = 0; done < count; done += chunk) {
    const jobs = [];
    for (let i = done; i < Math.min(count, done + chunk); i++) {
      const user = users[i % users.length];
      const id = randomUUID();
      jobs.push({
        name: 'password.reset-requested',
        data: { v: 1, userId: user.id, email: user.email, name: user.name, resetToken: sealer.seal(randomBytes(32).toString('base64url'), { eventId: id, userId: user.id, email: user.email }) },
        opts: { jobId: id },
      });
    }
    await queue.addBulk(jobs);
  }
}

/** One mail-throughput slice: fill the paused queue, resume, count deliveries, pause, clear. */
async function workerSlice(label, { queue, sink, sealer, users, jobs, seconds, profileProcs = [] }) {
  await queue.pause();
  await enqueueResetJobs(queue, sealer, users, jobs);
  const files = [];
  const window = await profiling(profileProcs, 'mail', files, async () => {
    await queue.resume();
    return measureSinkWindow(sink, seconds);
  });
  const left = await queue.getWaitingCount();
  await queue.pause();
  const result = { ...window, jobsEnqueued: jobs, ranDry: left === 0, profiles: profileSummaries(files) };
  await waitForSinkQuiet(sink);
  await queue.drain(true);
  await queue.resume();
  log(`${label}: ${result.emailsPerSecond} emails/s${result.ranDry ? ' (queue ran dry: a lower bound)' : ''} | cores ${JSON.stringify(window.cpu.cores)}`);
  return result;
}

async function rawSlice(raw, sink, message, seconds) {
  const reply = procs.ask(raw, { cmd: 'send', url: sink.url, message, concurrency: MAIL_CONCURRENCY, seconds: MAIL_WARMUP_SECONDS + seconds + 0.3 }, 120_000);
  const window = await measureSinkWindow(sink, seconds);
  const sent = await reply;
  await waitForSinkQuiet(sink, 300);
  log(`raw nodemailer: ${window.emailsPerSecond} emails/s | cores ${JSON.stringify(window.cpu.cores)}`);
  return { ...window, failed: sent.failed };
}

/** Mail slices added up. */
function combineMail(slices) {
  const emails = slices.reduce((a, s) => a + s.emails, 0);
  const seconds = slices.reduce((a, s) => a + s.seconds, 0);
  const emailsPerSecond = round(emails / seconds, 1);
  const cores = {};
  for (const s of slices) for (const [k, v] of Object.entries(s.cpu.cores)) cores[k] = (cores[k] ?? 0) + (v * s.seconds) / seconds;
  for (const k of Object.keys(cores)) cores[k] = round(cores[k], 2);
  return {
    emailsPerSecond,
    emails,
    seconds: round(seconds, 2),
    slices: slices.map((s) => s.emailsPerSecond),
    ranDry: slices.some((s) => s.ranDry),
    cpu: { cores, msPerEmail: perUnit({ cores }, emailsPerSecond, ['worker1', 'worker1.main', 'worker1.main.sys', 'worker2', 'raw', 'raw.main', 'sink', 'redis']) },
    ...(slices.some((s) => s.profiles) ? { profiles: slices.flatMap((s) => s.profiles ?? []) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The run

async function main() {
  assertLoopback('BENCH_DATABASE_URL', DATABASE_URL);
  assertLoopback('BENCH_REDIS_URL', REDIS_URL);
  fs.mkdirSync(LOGS, { recursive: true });
  if (PROFILE) {
    fs.rmSync(PROFILES, { recursive: true, force: true });
    fs.mkdirSync(PROFILES, { recursive: true });
  }
  const machine = {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((v) => round(v, 2)),
  };
  log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}; phases: ${[...PHASES].join(', ')}`);

  const { entries, built } = buildIfStale();
  const [apiPort, worker1Port, worker2Port, barePort] = await Promise.all([procs.freePort(), procs.freePort(), procs.freePort(), procs.freePort()]);
  const threadpoolSize = Number(process.env.UV_THREADPOOL_SIZE || 4);
  const secrets = { JWT_SECRET: randomBytes(48).toString('base64'), PAYLOAD_KEY: randomBytes(32).toString('base64') };
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    APP_URL: `http://127.0.0.1:${apiPort}`,
    REDIS_URL,
    QUEUE_PREFIX,
    PAYLOAD_KEY: secrets.PAYLOAD_KEY,
  };
  // The API and the workers with production's V8 heap settings (scripts/node-options.js).
  const apiEnv = { ...common, NODE_OPTIONS: withNodeOptions('api', process.env).NODE_OPTIONS, PORT: String(apiPort), OPS_PORT: '0', DATABASE_URL, JWT_SECRET: secrets.JWT_SECRET, RATE_LIMIT_ENABLED: 'false', NODE_ENV: 'test' }; // production refuses limits off

  log(`database ${DATABASE_NAME}: drop, create, migrate`);
  await recreateDatabase(entries, apiEnv);
  state.queue = new Queue('mail', {
    connection: redisConnection(),
    prefix: QUEUE_PREFIX,
    defaultJobOptions: { attempts: MAIL_ATTEMPTS, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true, removeOnFail: false },
  });
  const queue = state.queue;

  for (const f of fs.readdirSync(LOGS)) fs.rmSync(path.join(LOGS, f), { force: true });
  const sink = procs.startNode('smtp-sink', path.join(__dirname, 'lib', 'smtp-sink.js'), { logFile: path.join(LOGS, 'smtp-sink.log') });
  sink.url = `smtp://127.0.0.1:${(await procs.waitForMessage(sink, 'ready')).port}`;
  live.sink = sink;
  const workerEnv = (port) => ({ ...common, NODE_OPTIONS: withNodeOptions('worker', process.env).NODE_OPTIONS, WORKER_PORT: String(port), SMTP_URL: sink.url, SMTP_ALLOW_PLAINTEXT: 'true' }); // the local sink has no STARTTLS

  log('starting the built API and one mail worker');
  const api = procs.startNode('api', entries.api, { env: apiEnv, logFile: path.join(LOGS, 'api.log') });
  const worker1 = procs.startNode('worker-1', entries.worker, { env: workerEnv(worker1Port), logFile: path.join(LOGS, 'worker-1.log') });
  live.api = api;
  live.worker1 = worker1;
  await Promise.all([procs.waitForHttp(api, apiPort, '/health/ready'), procs.waitForHttp(worker1, worker1Port, '/health/ready')]);
  await procs.sleep(3000);
  const memory = { idle: { api: procs.rssMiB(api.pid), worker: procs.rssMiB(worker1.pid) }, end: {} };
  log(`idle RSS: api ${memory.idle.api} MiB, worker ${memory.idle.worker} MiB`);

  log(`seeding ${USERS} users with argon2id hashes (m=${ARGON2.memoryKib} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism})`);
  const users = await seedUsers();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const profiled = PROFILE ? [api] : [];
  const results = {};
  const sessions = [];

  // 1, 2. Sign-in and register vs the argon2id limits ----------------------------------------
  /** `mode` 'verify' (sign-in) or 'hash' (register): the limit and the path in alternating slices. */
  async function versusArgon2(phase, mode, opts, cpuGroups) {
    const argon = procs.startNode('argon2-limit', path.join(__dirname, 'lib', 'argon2-limit.js'), {
      env: { ARGON2_MEMORY_KIB: String(ARGON2.memoryKib), ARGON2_TIME_COST: String(ARGON2.timeCost), ARGON2_PARALLELISM: String(ARGON2.parallelism) },
      logFile: path.join(LOGS, 'argon2-limit.log'),
    });
    live.argon2 = argon;
    await procs.waitForMessage(argon, 'ready');
    const argonSlice = async () => {
      const usageStart = cpuStart();
      const reply = await procs.ask(argon, { cmd: 'measure', mode, seconds: SECONDS.slice, warmupSeconds: 0.5, concurrency: SIGNIN_CONNECTIONS, password: PASSWORD }, 120_000);
      const usage = cpu.since(usageStart);
      log(`argon2id ${mode} limit: ${round(reply.perSecond)}/s | cores ${JSON.stringify(usage.cores)}`);
      return { ...reply, cpu: usage };
    };
    await load.httpSlice(opts, { seconds: SECONDS.warmup, warm: 0 });
    const limitSlices = [];
    const slices = [];
    const files = [];
    for (let i = 0; i < ROUNDS; i++) {
      limitSlices.push(await argonSlice());
      slices.push(await profiling(profiled, phase, files, () => load.httpSlice(opts, { seconds: SECONDS.slice, cpuStart })));
      log(`${phase}: ${round(slices[i].ok / slices[i].seconds)} req/s | cores ${JSON.stringify(slices[i].cpu.cores)}`);
    }
    const measured = load.combine(slices, cpuGroups);
    measured.profiles = profileSummaries(files);
    await procs.stop(argon);
    delete live.argon2;
    const limit = limitSlices.reduce((a, s) => a + s.operations, 0) / limitSlices.reduce((a, s) => a + s.seconds, 0);
    log(`${phase}: ${measured.requestsPerSecond} req/s vs ${round(limit, 1)} argon2id ${mode}/s -> ${ratio(measured.requestsPerSecond, limit)}`);
    return {
      ...measured,
      baseline: {
        name: `argon2id ${mode === 'hash' ? 'hashes' : 'verifications'}/s with the same parameters on the same threadpool size and concurrency, no HTTP, in a separate Node process`,
        perSecond: round(limit, 1),
        slices: limitSlices.map((s) => round(s.perSecond, 1)),
        cpuCores: limitSlices.map((s) => s.cpu.cores),
        threadpoolSize,
        concurrency: SIGNIN_CONNECTIONS,
      },
      ratio: ratio(measured.requestsPerSecond, limit),
      ratioPerRound: roundRatios(measured.slices, limitSlices.map((s) => s.perSecond)),
    };
  }

  if (PHASES.has('signin')) {
    const signinOpts = postLoad(
      apiUrl,
      '/api/v1/auth/login',
      SIGNIN_CONNECTIONS,
      (i) => ({ email: users[i % users.length].email, password: PASSWORD }),
      (status, body) => {
        if (status === 200 && sessions.length < 5000) {
          const parsed = JSON.parse(body);
          sessions.push({ accessToken: parsed.accessToken, refreshToken: parsed.refreshToken });
        }
      },
    );
    results.signin = await versusArgon2('signin', 'verify', signinOpts, ['api', 'api.main', 'api.main.sys', 'postgres', 'loadgen']);
  }

  if (PHASES.has('register')) {
    // New addresses, confirmation off (201 and a user.registered event each). The queue is paused
    // meanwhile, as for forgot: this measures the API, not the worker sending the welcome mails.
    await queue.pause();
    const registerOpts = postLoad(apiUrl, '/api/v1/auth/register', SIGNIN_CONNECTIONS, (i) => ({ email: `register-${runId}-${i}@example.com`, password: PASSWORD, name: `Register ${i}` }));
    results.register = await versusArgon2('register', 'hash', registerOpts, ['api', 'api.main', 'api.main.sys', 'postgres', 'loadgen']);
    await waitForRelay();
    await queue.drain(true);
    await queue.resume();
  }

  // Signed-in sessions: readers, a chain of refresh tokens per connection for every refresh slice
  // and its warm-up, and spares (sign-in may have made some); forgot alone needs the baseline's readers.
  const sessionsNeeded = PHASES.has('read') || PHASES.has('refresh') ? (3 + ROUNDS) * HTTP_CONNECTIONS + 50 : HTTP_CONNECTIONS;
  if (PHASES.has('read') || PHASES.has('refresh') || PHASES.has('forgot')) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    while (sessions.length < sessionsNeeded) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, k) => {
          const user = users[(sessions.length + k) % users.length];
          return postJson(apiPort, '/api/v1/auth/login', { email: user.email, password: PASSWORD }, agent);
        }),
      );
      for (const res of batch) {
        if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
        const parsed = JSON.parse(res.body);
        sessions.push({ accessToken: parsed.accessToken, refreshToken: parsed.refreshToken });
      }
    }
    agent.destroy();
  }

  // 3-5. Read, refresh and forgot vs the bare baseline, in alternating slices -----------------
  let bare;
  let bareOpts;
  const bareSlices = [];
  /** Baseline, path, baseline, path, ...: the path's slices and the baseline slices of its rounds. */
  async function versusBare(phase, opts, cpuGroups, warmupOpts = opts) {
    await load.httpSlice(warmupOpts, { seconds: SECONDS.warmup, warm: 0 });
    const baseline = [];
    const slices = [];
    const files = [];
    for (let i = 0; i < ROUNDS; i++) {
      baseline.push(await load.httpSlice(bareOpts, { seconds: SECONDS.slice, cpuStart }));
      slices.push(await profiling(profiled, phase, files, () => load.httpSlice(typeof opts === 'function' ? opts(i) : opts, { seconds: SECONDS.slice, cpuStart })));
      log(`${phase}: ${round(slices[i].ok / slices[i].seconds)} req/s vs baseline ${round(baseline[i].ok / baseline[i].seconds)} req/s | cores ${JSON.stringify(slices[i].cpu.cores)}`);
    }
    bareSlices.push(...baseline);
    const measured = load.combine(slices, cpuGroups);
    measured.profiles = profileSummaries(files);
    const base = load.combine(baseline, ['bare', 'postgres', 'loadgen']);
    logHttp(phase, measured);
    return {
      ...measured,
      baseline: { name: BARE_BASELINE, requestsPerSecond: base.requestsPerSecond, slices: base.slices, latencyMs: base.latencyMs, cpu: base.cpu },
      ratio: ratio(measured.requestsPerSecond, base.requestsPerSecond),
      ratioPerRound: roundRatios(measured.slices, base.slices),
    };
  }
  if (PHASES.has('read') || PHASES.has('refresh') || PHASES.has('forgot')) {
    bare = procs.startNode('bare-fastify', path.join(__dirname, 'bare-app.js'), {
      env: { PORT: String(barePort), DATABASE_URL, DATABASE_POOL_SIZE: String(POOL_SIZE), JWT_SECRET: secrets.JWT_SECRET, APP_URL: apiEnv.APP_URL },
      logFile: path.join(LOGS, 'bare-fastify.log'),
    });
    live.bare = bare;
    await procs.waitForMessage(bare, 'ready');
    memory.idle.bare = procs.rssMiB(bare.pid);
    // The baseline reads as the API's readers do, with sessions of its own.
    const bareReaders = sessions.slice(sessions.length - HTTP_CONNECTIONS);
    let nextBare = 0;
    bareOpts = {
      url: `http://127.0.0.1:${barePort}/api/v1/users/me`,
      connections: HTTP_CONNECTIONS,
      setupClient(client) {
        client.setHeaders({ authorization: `Bearer ${bareReaders[nextBare++ % bareReaders.length].accessToken}` });
      },
    };
    await load.httpSlice(bareOpts, { seconds: SECONDS.warmup, warm: 0 });
  }

  if (PHASES.has('read')) {
    const readers = sessions.slice(0, HTTP_CONNECTIONS);
    let next = 0;
    const readOpts = {
      url: `${apiUrl}/api/v1/users/me`,
      connections: HTTP_CONNECTIONS,
      setupClient(client) {
        client.setHeaders({ authorization: `Bearer ${readers[next++ % readers.length].accessToken}` });
      },
    };
    results.read = await versusBare('read', readOpts, ['api', 'api.main', 'api.main.sys', 'postgres', 'loadgen']);
  }

  // Refresh: each connection spends its token and goes on with the one it gets back. Every slice
  // (and the warm-up) has chains of its own: a request cut off when a slice ends spends a token
  // whose successor never arrives, and presenting that token again would revoke the session.
  if (PHASES.has('refresh')) {
    const chainsOf = (block) => sessions.slice((1 + block) * HTTP_CONNECTIONS, (2 + block) * HTTP_CONNECTIONS).map((s) => ({ token: s.refreshToken }));
    const spare = sessions.slice((2 + ROUNDS) * HTTP_CONNECTIONS, sessions.length - HTTP_CONNECTIONS);
    let notOk = 0;
    const refreshOpts = (chains) => {
      let next = 0;
      return {
        url: apiUrl,
        connections: HTTP_CONNECTIONS,
        setupClient(client) {
          const chain = chains[next++ % chains.length];
          client.setRequests([
            {
              method: 'POST',
              path: '/api/v1/auth/refresh',
              headers: { 'content-type': 'application/json' },
              setupRequest(req) {
                req.body = JSON.stringify({ refreshToken: chain.token });
                return req;
              },
              onResponse(status, body) {
                if (status === 200) {
                  chain.token = JSON.parse(body).refreshToken;
                } else {
                  notOk += 1;
                  chain.token = (spare.pop() ?? sessions[0]).refreshToken;
                }
              },
            },
          ]);
        },
      };
    };
    const refresh = await versusBare('refresh', (i) => refreshOpts(chainsOf(1 + i)), ['api', 'api.main', 'api.main.sys', 'postgres', 'loadgen'], refreshOpts(chainsOf(0)));
    results.refresh = { ...refresh, refreshesNot200IncludingWarmup: notOk };
  }

  // Forgot password for existing addresses. The queue is paused meanwhile: this phase measures the
  // API (request, transaction, outbox, relay to Redis), not the worker competing with it for the
  // cores. Its jobs are dropped after.
  if (PHASES.has('forgot')) {
    await queue.pause();
    const outboxBefore = Number((await state.pg.query('select count(*) from outbox')).rows[0].count);
    const forgotOpts = postLoad(apiUrl, '/api/v1/auth/password/forgot', HTTP_CONNECTIONS, (i) => ({ email: users[i % users.length].email }));
    const forgot = await versusBare('forgot', forgotOpts, ['api', 'api.main', 'api.main.sys', 'postgres', 'redis', 'loadgen']);
    const relay = await waitForRelay();
    const events = Number((await state.pg.query('select count(*) from outbox')).rows[0].count) - outboxBefore;
    results.forgot = { ...forgot, outboxEvents: events, ...relay };
    log(`forgot: ${events} outbox events (warm-up included); the relay caught up ${relay.relayCatchUpMs} ms after the load`);
    await queue.drain(true);
    await queue.resume();
  }

  if (bare) {
    memory.end.bare = procs.rssMiB(bare.pid);
    await procs.stop(bare);
    delete live.bare;
    const all = load.combine(bareSlices, ['bare', 'postgres', 'loadgen']);
    results.baseline = { name: BARE_BASELINE, requestsPerSecond: all.requestsPerSecond, slices: all.slices, latencyMs: all.latencyMs, cpu: all.cpu, poolSize: POOL_SIZE };
    logHttp('baseline (bare Fastify + pg)', all);
  }

  // 6. Mail throughput --------------------------------------------------------------------
  if (PHASES.has('mail')) {
    const sealer = makeSealer(state.buildDir, secrets.PAYLOAD_KEY);
    const firstCount = await sinkCount(sink);
    await enqueueResetJobs(queue, sealer, users, 1);
    const sampleDeadline = Date.now() + 15_000;
    while ((await sinkCount(sink)) === firstCount) {
      if (Date.now() > sampleDeadline) throw new Error(`the worker sent no mail within 15 s${procs.tail(worker1)}`);
      await procs.sleep(50);
    }
    const { sample } = await procs.ask(sink, { cmd: 'sample' });
    const message = { from: sample.from, to: users[0].email, subject: sample.subject, html: sample.html, text: sample.text };
    const raw = procs.startNode('raw-nodemailer', path.join(__dirname, 'lib', 'raw-smtp.js'), {
      env: { TRANSPORT_MODULE: path.join(state.buildDir, 'apps/mail-worker/libs/mail/src/delivery/smtp.transport.js') },
      logFile: path.join(LOGS, 'raw-nodemailer.log'),
    });
    live.raw = raw;
    await procs.waitForMessage(raw, 'ready');
    const jobsFor = (rate) => Math.min(40_000, Math.ceil(rate * (MAIL_WARMUP_SECONDS + SECONDS.worker) * 1.5) + 200);
    // Warm-ups (JIT, SMTP pools), not counted.
    const warmRaw = await rawSlice(raw, sink, message, 1);
    await workerSlice('mail, 1 worker, warm-up', { queue, sink, sealer, users, jobs: jobsFor(warmRaw.emailsPerSecond), seconds: 1 });
    const rawSlices1 = [];
    const oneSlices = [];
    for (let i = 0; i < MAIL_ROUNDS; i++) {
      rawSlices1.push(await rawSlice(raw, sink, message, SECONDS.raw));
      const jobs = jobsFor(rawSlices1[i].emailsPerSecond);
      oneSlices.push(await workerSlice('mail, 1 worker', { queue, sink, sealer, users, jobs, seconds: SECONDS.worker, profileProcs: PROFILE && i === 0 ? [worker1] : [] }));
    }
    log('starting a second mail worker');
    const worker2 = procs.startNode('worker-2', entries.worker, { env: workerEnv(worker2Port), logFile: path.join(LOGS, 'worker-2.log') });
    live.worker2 = worker2;
    await procs.waitForHttp(worker2, worker2Port, '/health/ready');
    memory.idle.worker2 = procs.rssMiB(worker2.pid);
    const rawSlices2 = [];
    const twoSlices = [];
    for (let i = 0; i < Math.max(1, MAIL_ROUNDS - 1); i++) {
      rawSlices2.push(await rawSlice(raw, sink, message, SECONDS.raw));
      const jobs = jobsFor(Math.max(rawSlices2[i].emailsPerSecond, 2 * oneSlices[0].emailsPerSecond));
      twoSlices.push(await workerSlice('mail, 2 workers', { queue, sink, sealer, users, jobs, seconds: SECONDS.worker }));
    }
    memory.end.worker2 = procs.rssMiB(worker2.pid);
    await procs.stop(worker2);
    delete live.worker2;
    await procs.stop(raw);
    delete live.raw;
    const raw1 = combineMail(rawSlices1);
    const raw2 = combineMail(rawSlices2);
    const one = combineMail(oneSlices);
    const two = combineMail(twoSlices);
    const oneRatio = ratio(one.emailsPerSecond, raw1.emailsPerSecond);
    results.mail = {
      source:
        "jobs enqueued directly into BullMQ with the queue contract of libs/mail/src/contract/mail.events.ts (password.reset-requested v1, token sealed by the build's PayloadSealer under the workers' PAYLOAD_KEY, the API's job options)",
      message: { subject: message.subject, bytes: sample.size },
      concurrencyPerWorker: MAIL_CONCURRENCY,
      oneWorker: { ...one, ratio: oneRatio, ratioPerRound: roundRatios(one.slices, raw1.slices) },
      twoWorkers: {
        ...two,
        ratioToOne: ratio(two.emailsPerSecond, one.emailsPerSecond),
        ratioToOneRawNormalized: round(ratio(two.emailsPerSecond, raw2.emailsPerSecond) / oneRatio, 2),
        note: 'two-worker slices follow the one-worker slices (a worker cannot be switched off between slices); ratioToOneRawNormalized divides each by the raw baseline of its own rounds',
      },
      baseline: {
        name: "raw nodemailer with the worker's transport options (smtpTransportOptions from the build: pool, TCP_NODELAY sockets), the same message, SMTP server and concurrency, one process",
        ...raw1,
        withTwoWorkers: raw2,
      },
    };
  }

  // 7. End to end: registration request -> message accepted by the SMTP server -------------
  if (PHASES.has('e2e')) {
    const e2ePrefix = `e2e-${runId}-`;
    await procs.ask(sink, { cmd: 'track', prefix: e2ePrefix });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const total = Math.round(E2E_RATE * SECONDS.e2e);
    const warm = E2E_RATE; // the first second is not counted
    const sent = new Map();
    const httpLatencies = [];
    const responded = new Map();
    const statuses = {};
    const pending = [];
    const e2eStart = performance.now();
    let usageStart;
    for (let i = 0; i < warm + total; i++) {
      const due = e2eStart + (i * 1000) / E2E_RATE;
      const wait = due - performance.now();
      if (wait > 1) await procs.sleep(wait);
      if (i === warm) usageStart = cpuStart();
      const email = i < warm ? `warm-${runId}-${i}@example.com` : `${e2ePrefix}${i}@example.com`;
      const t = now();
      if (i >= warm) sent.set(email, t);
      pending.push(
        postJson(apiPort, '/api/v1/auth/register', { email, password: PASSWORD, name: `E2E ${i}` }, agent).then((res) => {
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (i >= warm) {
          httpLatencies.push(now() - t);
          responded.set(email, now());
        }
        }),
      );
    }
    const offeredSeconds = (performance.now() - e2eStart) / 1000;
    await Promise.all(pending);
    const usage = cpu.since(usageStart);
    agent.destroy();
    const deadline = Date.now() + 15_000;
    let arrivals = [];
    while (Date.now() < deadline) {
      arrivals = (await procs.ask(sink, { cmd: 'arrivals' })).arrivals;
      if (arrivals.length >= total) break;
      await procs.sleep(200);
    }
    const latencies = arrivals.filter(([to]) => sent.has(to)).map(([to, at]) => at - sent.get(to));
    // From the API's answer to the SMTP server's acceptance: outbox relay, Redis, worker, SMTP.
    const afterResponse = arrivals.filter(([to]) => responded.has(to)).map(([to, at]) => at - responded.get(to));
    usage.msPerRegistration = perUnit(usage, E2E_RATE, ['api', 'api.main', 'api.main.sys', 'postgres', 'worker1', 'sink', 'redis']);
    results.e2e = {
      rate: E2E_RATE,
      offeredRate: round((warm + total) / offeredSeconds, 1),
      registrations: total,
      emailsAccepted: latencies.length,
      missing: total - latencies.length,
      statusCodes: statuses,
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: latencies.length ? round(latencies.reduce((a, b) => (b > a ? b : a), -Infinity)) : null,
      },
      registerHttpLatencyMs: { p50: round(percentile(httpLatencies, 50)), p90: round(percentile(httpLatencies, 90)), p99: round(percentile(httpLatencies, 99)) },
      responseToAcceptedMs: { p50: round(percentile(afterResponse, 50)), p90: round(percentile(afterResponse, 90)), p99: round(percentile(afterResponse, 99)) },
      cpu: usage,
    };
    log(
      `e2e: ${latencies.length}/${total} emails, p50 ${results.e2e.latencyMs.p50} ms, p99 ${results.e2e.latencyMs.p99} ms ` +
        `(HTTP p50 ${results.e2e.registerHttpLatencyMs.p50} ms, p99 ${results.e2e.registerHttpLatencyMs.p99} ms; answer -> accepted p50 ${results.e2e.responseToAcceptedMs.p50} ms, p99 ${results.e2e.responseToAcceptedMs.p99} ms) | cores ${JSON.stringify(usage.cores)}`,
    );
  }

  memory.end.api = procs.rssMiB(api.pid);
  memory.end.worker = procs.rssMiB(worker1.pid);
  // What the API holds after the load: V8 heap (used, committed), native memory, array buffers.
  const report = await procs.ask(api, { cmd: 'memory-report' });
  const mib = (bytes) => round(bytes / 2 ** 20, 1);
  memory.apiAfterLoad = {
    rss: mib(report.memory.rss),
    heapUsed: mib(report.memory.heapUsed),
    heapTotal: mib(report.memory.heapTotal),
    external: mib(report.memory.external),
    arrayBuffers: mib(report.memory.arrayBuffers),
    modules: report.modules,
  };
  results.memory = memory;
  results.queueAtEnd = await queue.getJobCounts('failed', 'waiting', 'active', 'delayed');
  return buildReport({ machine, results, threadpoolSize, built });
}

// ---------------------------------------------------------------------------------------------
// Report

function buildReport({ machine, results, threadpoolSize, built }) {
  const r = results;
  const hasCoresForTwoWorkers = machine.nproc >= 4;
  const target = (id, text, phase, value, direction, goal, unit = 'ratio') => {
    if (r[phase] === undefined) return { id, text, direction, target: goal, unit, value: null, met: null, note: 'phase not run' };
    const known = typeof value === 'number' && Number.isFinite(value);
    // How far the value is from its target, 1 = exactly on it, above 1 = better than asked.
    const score = !known ? null : direction === 'at least' ? value / goal : goal / Math.max(value, 1e-9);
    return { id, text, direction, target: goal, unit, value: known ? value : null, met: known ? score >= 1 && (direction === 'at least' || value < goal) : false, score: score === null ? null : round(score, 3) };
  };
  // `at least`: the value must reach the target (ratios); `below`: it must stay under it (latency, memory).
  const targets = [
    target('signin', 'sign-in >= 0.85 of the argon2id verify limit', 'signin', r.signin?.ratio, 'at least', 0.85),
    target('register', 'register >= 0.80 of the argon2id hash limit', 'register', r.register?.ratio, 'at least', 0.8),
    target('read-ratio', 'GET /users/me >= 0.50 of the bare baseline', 'read', r.read?.ratio, 'at least', 0.5),
    target('read-p99', 'GET /users/me p99 < 25 ms at 50 connections', 'read', r.read?.latencyMs.p99, 'below', 25, 'ms'),
    target('refresh', 'refresh >= 0.25 of the bare baseline', 'refresh', r.refresh?.ratio, 'at least', 0.25),
    target('forgot-ratio', 'forgot-password >= 0.25 of the bare baseline', 'forgot', r.forgot?.ratio, 'at least', 0.25),
    target('forgot-p99', 'forgot-password p99 < 50 ms at 50 connections', 'forgot', r.forgot?.latencyMs.p99, 'below', 50, 'ms'),
    target('worker-1', 'one worker >= 0.60 of raw pooled nodemailer', 'mail', r.mail?.oneWorker.ratio, 'at least', 0.6),
    target('e2e-p99', 'register -> email accepted p99 < 100 ms at 50/s', 'e2e', r.e2e?.missing === 0 ? r.e2e?.latencyMs.p99 : null, 'below', 100, 'ms'),
    target('rss-api', 'RSS API < 180 MiB after the load', 'memory', r.memory.end.api, 'below', 180, 'MiB'),
    target('rss-worker', 'RSS worker < 100 MiB idle', 'memory', r.memory.idle.worker, 'below', 100, 'MiB'),
    {
      id: 'worker-2',
      text: 'two workers >= 1.6x one, when the machine has the cores (>= 4: two workers, the SMTP server and Redis)',
      value: r.mail?.twoWorkers.ratioToOne ?? null,
      met: hasCoresForTwoWorkers && r.mail ? r.mail.twoWorkers.ratioToOne >= 1.6 : null,
      note: hasCoresForTwoWorkers ? undefined : `not applicable on ${machine.nproc} cores (measured anyway)`,
    },
  ];
  // How much of the machine other work took while we measured: the noise behind every ratio.
  const others = [];
  const collect = (x) => {
    if (!x || typeof x !== 'object') return;
    if (x.cores && typeof x.cores.otherOnMachine === 'number') others.push(x.cores.otherOnMachine);
    for (const v of Object.values(x)) if (v && typeof v === 'object' && v !== x.cores) collect(v);
  };
  collect(r);
  machine.otherLoadCores = { mean: round(mean(others), 2), max: others.length ? round(Math.max(...others), 2) : null };
  return {
    runAt: new Date().toISOString(),
    durationSeconds: null,
    builtFirst: built,
    short: SHORT,
    profiled: PROFILE,
    phases: [...PHASES],
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => round(v, 2)) },
    settings: {
      argon2: ARGON2,
      uvThreadpoolSize: threadpoolSize,
      signinConnections: SIGNIN_CONNECTIONS,
      httpConnections: HTTP_CONNECTIONS,
      users: USERS,
      seconds: SECONDS,
      rounds: ROUNDS,
      mailRounds: MAIL_ROUNDS,
      nodeEnv: 'production',
      logLevel: process.env.LOG_LEVEL || 'info',
      rateLimits: 'off (RATE_LIMIT_ENABLED=false)',
      databasePoolSize: POOL_SIZE,
      mailConcurrency: MAIL_CONCURRENCY,
    },
    results,
    targets,
  };
}

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : String(round(v, d)));
const spread = (x) => (x?.perRound?.length > 1 ? ` (${fmt(x.min, 2)}-${fmt(x.max, 2)})` : '');
const statusOf = (t) => (t.note === 'phase not run' ? 'not run' : t.met === null ? 'n/a' : t.met ? 'met' : 'NOT met');

function table(report) {
  const r = report.results;
  const t = Object.fromEntries(report.targets.map((x) => [x.id, x]));
  const skipped = (label) => [label, 'not run', '', '', '', ''];
  const rows = [['measure', 'result', 'baseline (same run)', 'ratio', 'target', 'status']];
  const httpResult = (x) => `${fmt(x.requestsPerSecond, 0)} req/s, p50 ${fmt(x.latencyMs.p50)} ms, p99 ${fmt(x.latencyMs.p99)} ms`;
  const bareText = (x) => `bare Fastify + pg ${fmt(x.baseline.requestsPerSecond, 0)} req/s`;
  const argon = (x, what) => `argon2id ${what} ${fmt(x.baseline.perSecond)}/s`;
  rows.push(r.signin ? ['Sign-in, 16 connections', httpResult(r.signin), argon(r.signin, 'verify'), fmt(r.signin.ratio, 2) + spread(r.signin.ratioPerRound), '>= 0.85', statusOf(t.signin)] : skipped('Sign-in'));
  rows.push(r.register ? ['Register, 16 connections', httpResult(r.register), argon(r.register, 'hash'), fmt(r.register.ratio, 2) + spread(r.register.ratioPerRound), '>= 0.80', statusOf(t.register)] : skipped('Register'));
  if (r.read) {
    rows.push(['GET /users/me, 50 connections', httpResult(r.read), bareText(r.read), fmt(r.read.ratio, 2) + spread(r.read.ratioPerRound), '>= 0.50', statusOf(t['read-ratio'])]);
    rows.push(['GET /users/me latency', `p99 ${fmt(r.read.latencyMs.p99)} ms`, `baseline p99 ${fmt(r.read.baseline.latencyMs.p99)} ms`, '', 'p99 < 25 ms', statusOf(t['read-p99'])]);
  } else rows.push(skipped('GET /users/me'));
  rows.push(r.refresh ? ['Refresh (rotation), 50 connections', httpResult(r.refresh), bareText(r.refresh), fmt(r.refresh.ratio, 2) + spread(r.refresh.ratioPerRound), '>= 0.25', statusOf(t.refresh)] : skipped('Refresh'));
  if (r.forgot) {
    rows.push(['Forgot password, 50 connections', httpResult(r.forgot), bareText(r.forgot), fmt(r.forgot.ratio, 2) + spread(r.forgot.ratioPerRound), '>= 0.25', statusOf(t['forgot-ratio'])]);
    rows.push(['Forgot password latency', `p99 ${fmt(r.forgot.latencyMs.p99)} ms`, '', '', 'p99 < 50 ms', statusOf(t['forgot-p99'])]);
  } else rows.push(skipped('Forgot password'));
  if (r.mail) {
    rows.push(['Mail, 1 worker', `${fmt(r.mail.oneWorker.emailsPerSecond, 0)} emails/s`, `raw nodemailer pool ${fmt(r.mail.baseline.emailsPerSecond, 0)} emails/s`, fmt(r.mail.oneWorker.ratio, 2) + spread(r.mail.oneWorker.ratioPerRound), '>= 0.60', statusOf(t['worker-1'])]);
    rows.push(['Mail, 2 workers', `${fmt(r.mail.twoWorkers.emailsPerSecond, 0)} emails/s`, `1 worker ${fmt(r.mail.oneWorker.emailsPerSecond, 0)} emails/s`, fmt(r.mail.twoWorkers.ratioToOne, 2), '>= 1.6 with >= 4 cores', statusOf(t['worker-2'])]);
  } else rows.push(skipped('Mail'));
  rows.push(
    r.e2e
      ? ['Register -> email accepted, 50/s', `p50 ${fmt(r.e2e.latencyMs.p50, 0)} ms, p99 ${fmt(r.e2e.latencyMs.p99, 0)} ms (${r.e2e.emailsAccepted}/${r.e2e.registrations} mails)`, '', '', 'p99 < 100 ms', statusOf(t['e2e-p99'])]
      : skipped('Register -> email'),
  );
  if (r.e2e) {
    rows.push(['  (split) answer; answer -> SMTP', `p99 ${fmt(r.e2e.registerHttpLatencyMs.p99, 0)} ms; p99 ${fmt(r.e2e.responseToAcceptedMs.p99, 0)} ms`, '', '', '', `idle ${fmt(r.e2e.cpu.cores.idle, 2)} cores`]);
  }
  rows.push(['RSS API, idle / after the load', `${fmt(r.memory.idle.api)} / ${fmt(r.memory.end.api)} MiB`, '', '', 'after < 180 MiB', statusOf(t['rss-api'])]);
  rows.push([
    'RSS worker, idle / after the load',
    `${fmt(r.memory.idle.worker)} / ${fmt(r.memory.end.worker)} MiB` + (r.memory.idle.worker2 ? ` (2nd: ${fmt(r.memory.idle.worker2)} / ${fmt(r.memory.end.worker2)})` : ''),
    '',
    '',
    'idle < 100 MiB',
    statusOf(t['rss-worker']),
  ]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The result as a picture: one bar per target, its length the value measured against the target
 * (ratio / target for "at least", target / value for "below"), so the line at 1 is the target for
 * every bar and a bar that crosses it is met. Plain SVG, no dependency.
 */
function chart(report) {
  const bars = report.targets.filter((x) => x.score !== undefined && x.note !== 'phase not run');
  const m = report.machine;
  const width = 1000;
  const left = 330;
  const plot = 420;
  const rowHeight = 26;
  const top = 58;
  const max = 2;
  const height = top + bars.length * rowHeight + 46;
  const x = (v) => left + (Math.min(Math.max(v, 0), max) / max) * plot;
  const valueText = (b) => (b.value === null ? 'n/a' : b.unit === 'ratio' ? `${fmt(b.value, 2)} (target ${b.direction === 'at least' ? '>=' : '<'} ${b.target})` : `${fmt(b.value, 1)} ${b.unit} (target < ${b.target})`);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">npm run bench, ${escapeXml(report.runAt.slice(0, 16).replace('T', ' '))} UTC: each path against its target</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(`${m.nproc} cores (${m.cpuModel}), Node ${m.node}; other work used ${m.otherLoadCores.mean} cores on average (max ${m.otherLoadCores.max}). Bar = value / target (latency, memory: target / value); 1 = on target.`)}</text>`,
  ];
  for (const tick of [0, 0.5, 1, 1.5, 2]) {
    out.push(`<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${top + bars.length * rowHeight}" stroke="${tick === 1 ? '#222' : '#ddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"${tick === 1 ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${x(tick)}" y="${top + bars.length * rowHeight + 16}" text-anchor="middle" fill="#555">${tick}${tick === max ? '+' : ''}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    const colour = b.met === null ? '#9e9e9e' : b.met ? '#2e7d32' : '#c62828';
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeXml(b.text)}</text>`);
    if (b.score !== null && b.score !== undefined) out.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(b.score) - left)}" height="${rowHeight - 9}" fill="${colour}"/>`);
    out.push(`<text x="${left + plot + 8}" y="${y + 15}" fill="${colour}">${escapeXml(valueText(b))}</text>`);
  });
  out.push(`<text x="${left}" y="${height - 10}" fill="#555">green: met, red: missed, grey: not judged on this machine; bars are cut at 2</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Cleanup, always

async function cleanup() {
  await procs.stopAll();
  if (state.queue) {
    await state.queue.obliterate({ force: true }).catch(() => undefined);
    await state.queue.close().catch(() => undefined);
    await removePrefix(REDIS_URL, QUEUE_PREFIX).catch(() => undefined);
  }
  if (state.pg) await state.pg.end().catch(() => undefined);
  if (state.buildDir) fs.rmSync(state.buildDir, { recursive: true, force: true });
}

let cleaning;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: stopping everything the benchmark started`);
    cleaning ??= cleanup();
    cleaning.finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  procs.killAllNow();
  if (state.buildDir) fs.rmSync(state.buildDir, { recursive: true, force: true });
});

main()
  .then(async (report) => {
    cleaning ??= cleanup();
    await cleaning;
    report.durationSeconds = round((performance.now() - started) / 1000, 1);
    const json = JSON.stringify(report, null, 2);
    fs.writeFileSync(path.join(RESULTS, 'latest.json'), `${json}\n`);
    const stamp = `bench-${report.runAt.replace(/[:.]/g, '-')}`;
    fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), `${json}\n`);
    const svg = chart(report);
    fs.writeFileSync(path.join(RESULTS, 'latest.svg'), svg);
    fs.writeFileSync(path.join(RESULTS, `${stamp}.svg`), svg);
    const m = report.machine;
    const counted = report.targets.filter((t) => t.met !== null);
    process.stdout.write(
      `\nAccounts benchmark ${report.runAt}: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ` +
        `load average ${m.loadAverageAtStart.join(' ')} at start; other work used ${m.otherLoadCores.mean} cores on average (max ${m.otherLoadCores.max}) while we measured` +
        `${report.short ? ' [SHORT RUN: not comparable]' : ''}${report.profiled ? ' [PROFILED RUN: slower]' : ''}\n\n${table(report)}\n\n` +
        `Targets met: ${counted.filter((t) => t.met).length}/${counted.length}; results in bench/results/latest.json, chart in bench/results/latest.svg; ${report.durationSeconds} s.\n`,
    );
    if (PROFILE) {
      const all = [...['signin', 'register', 'read', 'refresh', 'forgot'].flatMap((k) => report.results[k]?.profiles ?? []), ...(report.results.mail?.oneWorker.profiles ?? [])];
      for (const p of all) process.stdout.write(`\n${profiles.format(p, 12)}\n`);
    }
    process.exit(0);
  })
  .catch(async (error) => {
    log(`failed: ${error.stack || error.message}`);
    cleaning ??= cleanup();
    await cleaning.catch(() => undefined);
    process.exit(1);
  });
