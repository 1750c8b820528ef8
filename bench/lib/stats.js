'use strict';

/** Nearest-rank percentile of numbers (p in 0..100). */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function mean(values) {
  const numbers = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  return numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null;
}

function round(value, digits = 1) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function ratio(value, baseline) {
  if (typeof value !== 'number' || typeof baseline !== 'number' || baseline <= 0) return null;
  return round(value / baseline, 2);
}

module.exports = { percentile, mean, round, ratio };
