#!/usr/bin/env node
'use strict';
// A/B comparison of two builds (or two configurations) of the service on one workload, in
// alternating slices (A, B, A, B, ...) so that the noise of a shared machine falls on both alike.
// For measuring a proposed change before it lands: copy the repository, apply the change, build
// the copy, and compare it with the unchanged build.
//
//   node bench/ab.js --a=/tmp/base --b=/tmp/patched --workload=read [--rounds=6] [--slice=3]
//   node bench/ab.js --workload=signin --env-b=UV_THREADPOOL_SIZE=2        # same build, other setting
//   node bench/ab.js --workload=read --env-a=NODE_OPTIONS=                 # A without the V8 heap settings
//
// Workloads: read (GET /users/me), refresh, forgot, signin, register (closed loop, unique
// addresses), mail (one worker each, on separate queue prefixes), e2e (registrations at --rate
// per second, default 50, each API with its own worker: latency to the SMTP server's acceptance). Both APIs share one database
// (BENCH_AB_DATABASE_URL, default .../accounts_ab, dropped and recreated; A's migrations) and one
// Redis; everything listens on and is sent to 127.0.0.1. A and B default to this repository; each
// must have been built (npm run build in that copy).
const { spawnSync } = require('node:child_process');
const { randomBytes, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Client } = require('pg');
const { Queue } = require('bullmq');
const { hash } = require('@node-rs/argon2');
const procs = require('./lib/procs');
const cpu = require('./lib/cpu');
const load = require('./lib/load');
const { removePrefix } = require('./lib/redis-cleanup');
const { mean, round, ratio } = require('./lib/stats');

const opt = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const envPairs = (raw) => Object.fromEntries((raw ? raw.split(',') : []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const ROOT = path.resolve(__dirname, '..');
const A = path.resolve(opt('a', ROOT));
const B = path.resolve(opt('b', ROOT));
const WORKLOAD = opt('workload', 'read');
const ROUNDS = Number(opt('rounds', 6));
const SLICE = Number(opt('slice', 3));
const CONNECTIONS = Number(opt('connections', WORKLOAD === 'signin' || WORKLOAD === 'register' ? 16 : 50));
const ENV_A = envPairs(opt('env-a', ''));
const ENV_B = envPairs(opt('env-b', ''));
const DATABASE_URL = process.env.BENCH_AB_DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/accounts_ab';
const DATABASE_NAME = new URL(DATABASE_URL).pathname.slice(1);
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const PASSWORD = 'orbit lantern velvet 93';
const USERS = 200;
const LOGS = path.join(__dirname, 'results', 'ab-logs');
const runId = randomBytes(3).toString('hex');
const live = {};
const queues = [];
let pg;

const log = (line) => process.stderr.write(`[ab] ${line}\n`);
const entry = (root, e) => path.join(root, 'dist', 'apps', e);
/**
 * The V8 heap settings each side's own scripts/node-options.js gives its apps, as production runs
 * them; `--env-a=NODE_OPTIONS=` runs A with Node's defaults instead.
 */
const nodeOptionsOf = (root, app) => {
  const file = path.join(root, 'scripts', 'node-options.js');
  if (!fs.existsSync(file)) return process.env.NODE_OPTIONS ?? '';
  const { NODE_OPTIONS, withNodeOptions } = require(file);
  // Builds from before the per-app settings had one string for both apps.
  return (typeof NODE_OPTIONS === 'string' ? withNodeOptions(process.env) : withNodeOptions(app, process.env)).NODE_OPTIONS;
};

async function main() {
  for (const url of [DATABASE_URL, REDIS_URL]) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(new URL(url).hostname)) throw new Error(`${url} is not on this machine`);
  }
  for (const root of [A, B]) if (!fs.existsSync(entry(root, 'api/apps/api/src/main.js'))) throw new Error(`${root}: no build (run npm run build there)`);
  fs.mkdirSync(LOGS, { recursive: true });
  log(`workload ${WORKLOAD}, ${ROUNDS} rounds of ${SLICE} s, ${CONNECTIONS} connections\n  A: ${A} ${JSON.stringify(ENV_A)}\n  B: ${B} ${JSON.stringify(ENV_B)}`);

  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const adminClient = new Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`drop database if exists "${DATABASE_NAME}" with (force)`);
  await adminClient.end();
  const migrated = spawnSync(process.execPath, [entry(A, 'api/apps/api/src/migrate.js')], { env: { ...process.env, DATABASE_URL }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();

  const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => ({ id: randomUUID(), email: `ab-user-${i}@example.com`, name: `AB User ${i}`, hash: await hash(PASSWORD, options) })),
  );
  await pg.query(
    `insert into users (id, email, email_canonical, name, password_hash, email_confirmed_at, created_at, updated_at) values ${users
      .map((_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5}, now(), now(), now())`)
      .join(', ')}`,
    users.flatMap((u) => [u.id, u.email, u.email, u.name, u.hash]),
  );

  const secrets = { JWT_SECRET: randomBytes(48).toString('base64'), PAYLOAD_KEY: randomBytes(32).toString('base64') };
  let sinkUrl;
  if (WORKLOAD === 'mail' || WORKLOAD === 'e2e') {
    const sink = procs.startNode('smtp-sink', path.join(__dirname, 'lib', 'smtp-sink.js'), { logFile: path.join(LOGS, 'smtp-sink.log') });
    live.sink = sink;
    sinkUrl = `smtp://127.0.0.1:${(await procs.waitForMessage(sink, 'ready')).port}`;
  }
  const variants = [];
  for (const [name, root, env] of [['A', A, ENV_A], ['B', B, ENV_B]]) {
    const port = await procs.freePort();
    const prefix = `ab-${runId}-${name}`;
    const common = { NODE_ENV: 'production', LOG_LEVEL: 'info', REDIS_URL, QUEUE_PREFIX: prefix, PAYLOAD_KEY: secrets.PAYLOAD_KEY, APP_URL: 'http://127.0.0.1:3000' }; // one issuer: tokens work on both
    // Each app with its V8 heap settings, unless --env-a/--env-b say otherwise.
    const apiEnv = { ...common, NODE_OPTIONS: nodeOptionsOf(root, 'api'), ...env };
    const workerEnv = { ...common, NODE_OPTIONS: nodeOptionsOf(root, 'worker'), ...env };
    const v = { name, root, port, prefix, url: `http://127.0.0.1:${port}` };
    if (WORKLOAD === 'mail') {
      v.workerPort = await procs.freePort();
      v.proc = procs.startNode(`worker-${name}`, entry(root, 'mail-worker/apps/mail-worker/src/main.js'), {
        env: { ...workerEnv, WORKER_PORT: String(v.workerPort), SMTP_URL: sinkUrl, SMTP_ALLOW_PLAINTEXT: 'true' },
        logFile: path.join(LOGS, `worker-${name}.log`),
      });
      live[`worker${name}`] = v.proc;
      await procs.waitForHttp(v.proc, v.workerPort, '/health/ready');
      v.queue = new Queue('mail', { connection: { host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379), maxRetriesPerRequest: null }, prefix });
      queues.push(v.queue);
      await v.queue.pause();
      const { PayloadSealer } = require(entry(root, 'api/libs/mail/src/contract/payload.sealer.js'));
      v.sealer = new PayloadSealer({ key: Buffer.from(secrets.PAYLOAD_KEY, 'base64') });
    } else {
      if (WORKLOAD === 'e2e') {
        v.workerPort = await procs.freePort();
        v.worker = procs.startNode(`worker-${name}`, entry(root, 'mail-worker/apps/mail-worker/src/main.js'), {
          env: { ...workerEnv, WORKER_PORT: String(v.workerPort), SMTP_URL: sinkUrl, SMTP_ALLOW_PLAINTEXT: 'true' },
          logFile: path.join(LOGS, `worker-${name}.log`),
        });
        live[`worker${name}`] = v.worker;
        await procs.waitForHttp(v.worker, v.workerPort, '/health/ready');
      }
      v.proc = procs.startNode(`api-${name}`, entry(root, 'api/apps/api/src/main.js'), {
        env: { ...apiEnv, PORT: String(port), OPS_PORT: '0', DATABASE_URL, JWT_SECRET: secrets.JWT_SECRET, RATE_LIMIT_ENABLED: 'false', NODE_ENV: 'test' }, // production refuses limits off
        logFile: path.join(LOGS, `api-${name}.log`),
      });
      live[`api${name}`] = v.proc;
      await procs.waitForHttp(v.proc, port, '/health/ready');
    }
    variants.push(v);
  }
  const cpuStart = () => cpu.snapshot({ procs: live, database: DATABASE_NAME });

  // Sessions (both APIs share the database and the JWT key, so any session works on both).
  const sessions = [];
  if (WORKLOAD === 'read' || WORKLOAD === 'refresh') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    // Refresh slices each take a fresh block of chains: a request in flight when a slice stops may
    // have spent its token unseen, and replaying it would end that session (reuse detection).
    const blocks = WORKLOAD === 'refresh' ? 2 * ROUNDS + 2 : 4;
    while (sessions.length < blocks * CONNECTIONS + 100) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, k) => postJson(variants[0].port, '/api/v1/auth/login', { email: users[(sessions.length + k) % USERS].email, password: PASSWORD }, agent)),
      );
      for (const res of batch) {
        if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
        sessions.push(JSON.parse(res.body));
      }
    }
    agent.destroy();
  }

  let counter = 0;
  const optsFor = (v, index) => {
    const base = { url: v.url, connections: CONNECTIONS };
    const json = { 'content-type': 'application/json' };
    switch (WORKLOAD) {
      case 'read': {
        let next = 0;
        const mine = sessions.slice(index * CONNECTIONS, (index + 1) * CONNECTIONS);
        return { ...base, url: `${v.url}/api/v1/users/me`, setupClient: (c) => c.setHeaders({ authorization: `Bearer ${mine[next++ % mine.length].accessToken}` }) };
      }
      case 'refresh': {
        const chains = sessions.slice(index * CONNECTIONS, (index + 1) * CONNECTIONS).map((s) => ({ token: s.refreshToken }));
        const spare = sessions.slice((2 * ROUNDS + 2) * CONNECTIONS);
        let next = 0;
        return {
          ...base,
          setupClient(client) {
            const chain = chains[next++ % chains.length];
            client.setRequests([
              {
                method: 'POST',
                path: '/api/v1/auth/refresh',
                headers: json,
                setupRequest: (req) => ({ ...req, body: JSON.stringify({ refreshToken: chain.token }) }),
                onResponse: (status, body) => {
                  chain.token = status === 200 ? JSON.parse(body).refreshToken : spare.pop().refreshToken;
                },
              },
            ]);
          },
        };
      }
      case 'forgot':
      case 'signin':
      case 'register':
        return {
          ...base,
          setupClient(client) {
            client.setRequests([
              {
                method: 'POST',
                path: { forgot: '/api/v1/auth/password/forgot', signin: '/api/v1/auth/login', register: '/api/v1/auth/register' }[WORKLOAD],
                headers: json,
                setupRequest(req) {
                  const i = counter++;
                  const body =
                    WORKLOAD === 'forgot'
                      ? { email: users[i % USERS].email }
                      : WORKLOAD === 'signin'
                        ? { email: users[i % USERS].email, password: PASSWORD }
                        : { email: `ab-${runId}-${i}@example.com`, password: PASSWORD, name: `AB ${i}` };
                  return { ...req, body: JSON.stringify(body) };
                },
              },
            ]);
          },
        };
      default:
        throw new Error(`unknown workload ${WORKLOAD}`);
    }
  };

  const slices = { A: [], B: [] };
  if (WORKLOAD === 'e2e') {
    // Registrations at a steady RATE per second; latency = request sent -> message accepted by SMTP.
    const RATE = Number(opt('rate', 50));
    const sink = live.sink;
    const e2eSlice = async (v, label, seconds) => {
      const prefix = `e2e-${runId}-${label}-`;
      await procs.ask(sink, { cmd: 'track', prefix });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
      const sent = new Map();
      const pending = [];
      const usage = cpuStart();
      const start = load.now();
      const total = Math.round(RATE * seconds);
      for (let i = 0; i < total; i++) {
        const wait = start + (i * 1000) / RATE - load.now();
        if (wait > 1) await procs.sleep(wait);
        const email = `${prefix}${i}@example.com`;
        sent.set(email, load.now());
        pending.push(postJson(v.port, '/api/v1/auth/register', { email, password: PASSWORD, name: `E2E ${i}` }, agent));
      }
      const statuses = await Promise.all(pending);
      const used = cpu.since(usage);
      agent.destroy();
      const deadline = Date.now() + 8000;
      let arrivals = [];
      while (Date.now() < deadline) {
        arrivals = (await procs.ask(sink, { cmd: 'arrivals' })).arrivals;
        if (arrivals.length >= total) break;
        await procs.sleep(200);
      }
      const latencies = arrivals.filter(([to]) => sent.has(to)).map(([to, at]) => at - sent.get(to));
      return { ok: latencies.length, non2xx: statuses.filter((r) => r.status !== 201).length, errors: total - latencies.length, seconds, latencies, cpu: used };
    };
    await e2eSlice(variants[0], 'warm-A', 2);
    await e2eSlice(variants[1], 'warm-B', 2);
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        const s = await e2eSlice(v, `${v.name}-${r}`, SLICE);
        slices[v.name].push(s);
        const sorted = [...s.latencies].sort((x, y) => x - y);
        log(`round ${r + 1} ${v.name}: ${s.ok}/${Math.round(RATE * SLICE)} mails, p50 ${round(sorted[Math.floor(sorted.length / 2)])} ms, p99 ${round(sorted[Math.ceil(sorted.length * 0.99) - 1])} ms, other load ${s.cpu.cores.otherOnMachine} cores`);
      }
    }
  } else if (WORKLOAD === 'mail') {
    const sink = live.sink;
    const count = async () => (await procs.ask(sink, { cmd: 'stats' })).count;
    const mailSlice = async (v) => {
      const jobs = Array.from({ length: 6000 }, (_, i) => {
        const id = randomUUID();
        const u = users[i % USERS];
        return { name: 'password.reset-requested', data: { v: 1, userId: u.id, email: u.email, name: u.name, resetToken: sealFor(v.sealer, randomBytes(32).toString('base64url'), { eventId: id, userId: u.id, email: u.email }) }, opts: { jobId: id, removeOnComplete: true } };
      });
      for (let i = 0; i < jobs.length; i += 1000) await v.queue.addBulk(jobs.slice(i, i + 1000));
      await v.queue.resume();
      await procs.sleep(700);
      const c0 = await count();
      const t0 = load.now();
      const usage = cpuStart();
      await procs.sleep(SLICE * 1000);
      const c1 = await count();
      const t1 = load.now();
      const used = cpu.since(usage);
      await v.queue.pause();
      let last = -1;
      while (last !== (last = await count())) await procs.sleep(400);
      await v.queue.drain(true);
      return { ok: c1 - c0, non2xx: 0, errors: 0, seconds: (t1 - t0) / 1000, latencies: [], cpu: used };
    };
    await mailSlice(variants[0]);
    await mailSlice(variants[1]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        const s = await mailSlice(v);
        slices[v.name].push(s);
        log(`round ${r + 1} ${v.name}: ${round(s.ok / s.seconds)} emails/s`);
      }
    }
  } else {
    const opts = variants.map((v, i) => optsFor(v, i));
    for (const o of opts) await load.httpSlice(o, { seconds: 2, warm: 0 });
    let block = 2;
    for (let r = 0; r < ROUNDS; r++) {
      // ABBA order: neither variant always goes first.
      for (const i of r % 2 ? [1, 0] : [0, 1]) {
        const s = await load.httpSlice(WORKLOAD === 'refresh' ? optsFor(variants[i], block++) : opts[i], { seconds: SLICE, cpuStart });
        slices[variants[i].name].push(s);
        log(`round ${r + 1} ${variants[i].name}: ${round(s.ok / s.seconds)} req/s, ${s.non2xx} non-2xx`);
      }
    }
  }
  const groups = (n) =>
    WORKLOAD === 'mail'
      ? [`worker${n}`, `worker${n}.main`, `worker${n}.main.sys`, 'sink', 'redis']
      : WORKLOAD === 'e2e'
        ? [`api${n}`, `api${n}.main`, 'postgres', `worker${n}`, 'sink', 'redis', 'loadgen']
        : [`api${n}`, `api${n}.main`, `api${n}.main.sys`, 'postgres', 'loadgen'];
  const a = load.combine(slices.A, groups('A'));
  const b = load.combine(slices.B, groups('B'));
  const perRound = a.slices.map((x, i) => ratio(b.slices[i], x));
  const report = {
    workload: WORKLOAD,
    rounds: ROUNDS,
    sliceSeconds: SLICE,
    connections: CONNECTIONS,
    a: { root: A, env: ENV_A, ...a },
    b: { root: B, env: ENV_B, ...b },
    ratioBtoA: ratio(b.requestsPerSecond, a.requestsPerSecond),
    ratioPerRound: { values: perRound, min: Math.min(...perRound), max: Math.max(...perRound), mean: round(mean(perRound), 2) },
  };
  const unit = WORKLOAD === 'mail' ? 'emails/s' : 'req/s';
  if (WORKLOAD === 'e2e') {
    // The comparison is of latency (CPU per unit is per delivered mail, about the offered rate).
    report.p99BtoA = ratio(b.latencyMs.p99, a.latencyMs.p99);
    report.p50BtoA = ratio(b.latencyMs.p50, a.latencyMs.p50);
  }
  const line = (n, x) =>
    `${n}: ${x.requestsPerSecond} ${unit}` +
    (WORKLOAD === 'mail' ? '' : `, p50 ${x.latencyMs.p50} ms, p99 ${x.latencyMs.p99} ms, non-2xx ${x.non2xx}${WORKLOAD === 'e2e' ? `, mails missing ${x.errors}` : ''}`) +
    ` | ms CPU per unit ${JSON.stringify(x.cpu.msPerRequest)} | other load on the machine ${x.cpu.cores.otherOnMachine} cores`;
  process.stdout.write(
    `${line('A', a)}\n${line('B', b)}\n` +
      (WORKLOAD === 'e2e' ? `p50 B/A = ${report.p50BtoA}, p99 B/A = ${report.p99BtoA}\n` : `B/A = ${report.ratioBtoA} (per round ${perRound.join(', ')})\n`),
  );
  const out = path.join(__dirname, 'results', `ab-${WORKLOAD}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`written ${out}`);
}

/** Builds from before seal v2 bind the event id alone (and throw on a binding object); v2 binds the recipient too. */
function sealFor(sealer, token, binding) {
  try {
    return sealer.seal(token, binding);
  } catch {
    return sealer.seal(token, binding.eventId);
  }
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

async function cleanup() {
  await procs.stopAll();
  for (const q of queues) {
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close().catch(() => undefined);
  }
  for (const name of ['A', 'B']) await removePrefix(REDIS_URL, `ab-${runId}-${name}`).catch(() => undefined);
  if (pg) await pg.end().catch(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => cleanup().finally(() => process.exit(130)));
process.on('exit', () => procs.killAllNow());
main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (error) => {
    log(`failed: ${error.stack}`);
    await cleanup();
    process.exit(1);
  });
