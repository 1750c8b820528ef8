'use strict';
// Child processes of the benchmark: start, wait for, measure, and always stop them.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const HOOKS = path.join(__dirname, 'child-hooks.js');
const children = new Set();

/**
 * Starts `node [args] script` with stdout and stderr going straight to `logFile` (so logging costs
 * the child what it costs in production, and nothing in this process) and an IPC channel: the child
 * exits when this process dies, and can be asked to start and stop a CPU profile.
 */
function startNode(name, script, { env = {}, args = [], logFile, nodeArgs = [] } = {}) {
  const fd = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, '--require', HOOKS, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  if (typeof fd === 'number') fs.closeSync(fd);
  const proc = { name, child, pid: child.pid, logFile, exited: false, exitCode: null };
  proc.exitedPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = true;
      proc.exitCode = code ?? signal;
      children.delete(proc);
      resolve(proc.exitCode);
    });
  });
  child.on('error', () => undefined);
  children.add(proc);
  return proc;
}

/** Sends a message to a child started with startNode and waits for the reply with the same `id`. */
let nextId = 1;
function ask(proc, message, timeoutMs = 30_000) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    if (proc.exited) return reject(new Error(`${proc.name} has exited (${proc.exitCode})${tail(proc)}`));
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      proc.child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${proc.name} did not answer ${message.cmd} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (reply) => {
      if (!reply || reply.id !== id) return;
      cleanup();
      if (reply.error) reject(new Error(`${proc.name}: ${reply.error}`));
      else resolve(reply);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${proc.name} exited (${code ?? signal}) before answering ${message.cmd}${tail(proc)}`));
    };
    proc.child.on('message', onMessage);
    proc.child.on('exit', onExit);
    proc.child.send({ ...message, id });
  });
}

/** Waits for a message of `type` from a child (e.g. its 'ready'). */
function waitForMessage(proc, type, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${proc.name}: no "${type}" within ${timeoutMs} ms${tail(proc)}`)), timeoutMs);
    const onMessage = (message) => {
      if (message && message.type === type) done(null, message);
    };
    const onExit = (code) => done(new Error(`${proc.name} exited (${code}) before "${type}"${tail(proc)}`));
    function done(error, value) {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      proc.child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value);
    }
    proc.child.on('message', onMessage);
    proc.child.on('exit', onExit);
  });
}

/** Polls http://127.0.0.1:port/path until it answers 200. */
async function waitForHttp(proc, port, urlPath, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited (${proc.exitCode}) while starting${tail(proc)}`);
    const status = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => {
        req.destroy();
        resolve(0);
      });
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready on :${port}${urlPath} within ${timeoutMs} ms${tail(proc)}`);
    await sleep(200);
  }
}

/** The last lines of a child's log, for error messages. */
function tail(proc, lines = 15) {
  if (!proc.logFile) return '';
  try {
    const text = fs.readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `\n--- last lines of ${proc.logFile} ---\n${text}` : '';
  } catch {
    return '';
  }
}

/** Resident set size in MiB from /proc/<pid>/status (VmRSS). */
function rssMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round((kb / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child has exited. */
async function stop(proc, graceMs = 5_000) {
  if (!proc || proc.exited) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await proc.exitedPromise;
  clearTimeout(timer);
}

/** Stops every child still running (used on success, failure and signals alike). */
async function stopAll() {
  await Promise.all([...children].map((proc) => stop(proc)));
}

/** Synchronous last resort for process 'exit': SIGKILL by pid whatever is left. */
function killAllNow() {
  for (const proc of children) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { startNode, ask, waitForMessage, waitForHttp, rssMiB, stop, stopAll, killAllNow, freePort, sleep, tail };
