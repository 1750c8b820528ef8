'use strict';
// HTTP load in slices (autocannon), shared by run.js and ab.js.
const { performance } = require('node:perf_hooks');
const autocannon = require('autocannon');
const cpu = require('./cpu');
const { percentile, round } = require('./stats');

const now = () => performance.timeOrigin + performance.now();

/** CPU per unit of work (ms) for the groups that matter, from cores used and a rate. */
function perUnit(usage, rate, groups) {
  if (!rate) return undefined;
  return Object.fromEntries(groups.filter((g) => usage.cores[g] !== undefined).map((g) => [g, round((usage.cores[g] * 1000) / rate, 2)]));
}

/**
 * One slice of HTTP load: autocannon for `warm + seconds`, counting only the responses that arrive
 * in the last `seconds` (so requests cut off by the previous slice, or still in flight from it, do
 * not count), with the CPU use of every process in that window.
 */
function httpSlice(opts, { seconds, warm = 0.5, cpuStart = null }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    let ok = 0;
    let non2xx = 0;
    let errors = 0;
    let measuring = false;
    let windowStart = 0;
    let usageStart;
    const timer = setTimeout(() => {
      measuring = true;
      windowStart = now();
      usageStart = cpuStart ? cpuStart() : null;
    }, warm * 1000);
    const instance = autocannon({ timeout: 10, ...opts, duration: warm + seconds }, (error) => {
      clearTimeout(timer);
      measuring = false;
      if (error) return reject(error);
      const elapsed = (now() - windowStart) / 1000;
      resolve({ ok, non2xx, errors, seconds: elapsed, latencies, cpu: usageStart ? cpu.since(usageStart) : null });
    });
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (!measuring) return;
      latencies.push(responseTime);
      if (status >= 200 && status < 300) ok += 1;
      else non2xx += 1;
    });
    instance.on('reqError', () => {
      if (measuring) errors += 1;
    });
  });
}

/** Slices of one kind added up: rate over all measured seconds, percentiles over all latencies. */
function combine(slices, cpuGroups) {
  const ok = slices.reduce((a, s) => a + s.ok, 0);
  const seconds = slices.reduce((a, s) => a + s.seconds, 0);
  const latencies = slices.flatMap((s) => s.latencies);
  const requestsPerSecond = round(ok / seconds, 1);
  const cores = {};
  for (const s of slices) {
    for (const [k, v] of Object.entries(s.cpu?.cores ?? {})) cores[k] = (cores[k] ?? 0) + (v * s.seconds) / seconds;
  }
  for (const k of Object.keys(cores)) cores[k] = round(cores[k], 2);
  return {
    requestsPerSecond,
    ok,
    non2xx: slices.reduce((a, s) => a + s.non2xx, 0),
    errors: slices.reduce((a, s) => a + s.errors, 0),
    seconds: round(seconds, 2),
    slices: slices.map((s) => round(s.ok / s.seconds, 1)),
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p90: round(percentile(latencies, 90), 2),
      p99: round(percentile(latencies, 99), 2),
      max: latencies.length ? round(latencies.reduce((a, b) => (b > a ? b : a), -Infinity), 2) : null,
    },
    cpu: { cores, msPerRequest: perUnit({ cores }, requestsPerSecond, cpuGroups) },
  };
}

module.exports = { httpSlice, combine, perUnit, now };
