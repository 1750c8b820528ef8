'use strict';
// Where the CPU went during a phase, from /proc: the processes the benchmark started, the
// PostgreSQL backends of the benchmark database (plus the server's shared background processes),
// Redis, the benchmark itself (the load generator), and everything else on the machine (other
// engineers' test suites: the noise every ratio has to live with).
const fs = require('node:fs');

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

function ticksOf(pid, tid, kernelOnly = false) {
  try {
    const stat = fs.readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return kernelOnly ? Number(fields[12]) : Number(fields[11]) + Number(fields[12]); // [utime +] stime
  } catch {
    return null;
  }
}

function processTable() {
  const table = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      if (comm !== 'postgres' && comm !== 'redis-server') continue;
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      table.push({ pid: Number(name), comm, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

function machineTicks() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}

/** A snapshot; pass it to `since` at the end of the phase. */
function snapshot({ procs, database }) {
  const groups = {};
  const add = (group, pid, tid, kernelOnly) => {
    const ticks = ticksOf(pid, tid, kernelOnly);
    if (ticks === null) return;
    groups[group] ??= {};
    groups[group][pid] = ticks;
  };
  for (const [group, proc] of Object.entries(procs)) {
    if (!proc || proc.exited) continue;
    add(group, proc.pid);
    // The main thread alone (tid = pid): the event loop. The rest of a Node process is GC and JIT
    // helpers and the libuv threadpool (where argon2 runs).
    add(`${group}.main`, proc.pid, proc.pid);
    // ... and the part of it spent in the kernel (system calls: sockets, files).
    add(`${group}.main.sys`, proc.pid, proc.pid, true);
  }
  for (const p of processTable()) {
    if (p.comm === 'redis-server') add('redis', p.pid);
    else if (p.cmdline.includes(` ${database} `) || !/postgres: .* postgres /.test(p.cmdline)) add('postgres', p.pid);
  }
  return { at: process.hrtime.bigint(), self: process.cpuUsage(), groups, machine: machineTicks(), database, procs };
}

/**
 * Cores used by each group between `start` and now (1.0 = one core busy the whole time); `x.main`
 * is the main thread of process x (included in x), `x.main.sys` its time in the kernel.
 */
function since(start) {
  const end = snapshot({ procs: start.procs, database: start.database });
  const seconds = Number(end.at - start.at) / 1e9;
  const cores = {};
  let ours = 0;
  for (const [group, pids] of Object.entries(end.groups)) {
    let ticks = 0;
    for (const [pid, t] of Object.entries(pids)) ticks += t - (start.groups[group]?.[pid] ?? 0);
    cores[group] = ticks / TICKS_PER_SECOND / seconds;
    if (!group.includes('.main')) ours += cores[group];
  }
  const self = process.cpuUsage(start.self);
  cores.loadgen = (self.user + self.system) / 1e6 / seconds;
  ours += cores.loadgen;
  const busy = (end.machine.busy - start.machine.busy) / TICKS_PER_SECOND / seconds;
  const total = busy + (end.machine.idle - start.machine.idle) / TICKS_PER_SECOND / seconds;
  cores.otherOnMachine = Math.max(0, busy - ours);
  cores.idle = Math.max(0, total - busy);
  for (const key of Object.keys(cores)) cores[key] = Math.round(cores[key] * 100) / 100;
  return { seconds: Math.round(seconds * 10) / 10, cores };
}

module.exports = { snapshot, since };
