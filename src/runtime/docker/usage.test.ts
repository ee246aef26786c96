import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageFromStats } from './usage.ts';

test('cgroup v2: usage less inactive_file, CPU from nanoseconds', () => {
  const stats = { cpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } }, memory_stats: { usage: 50_000_000, limit: 8e9, stats: { inactive_file: 20_000_000, active_file: 1 } } };
  assert.deepEqual(usageFromStats(stats), { cpuSeconds: 2.5, memoryBytes: 30_000_000 });
});

test('cgroup v1: total_inactive_file first, else cache', () => {
  const v1 = (stats: Record<string, number>) => usageFromStats({ cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: { usage: 10_000, stats } });
  assert.equal(v1({ total_inactive_file: 4_000, cache: 9_000 })?.memoryBytes, 6_000);
  assert.equal(v1({ cache: 9_000 })?.memoryBytes, 1_000);
  assert.equal(v1({})?.memoryBytes, 10_000);
  // A cache count above usage (sampled at another instant) never makes memory negative.
  assert.equal(v1({ inactive_file: 20_000 })?.memoryBytes, 10_000);
});

test('an empty sample (a stopped container) or nonsense gives nothing', () => {
  assert.equal(usageFromStats({}), undefined);
  assert.equal(usageFromStats({ cpu_stats: { cpu_usage: { total_usage: 5 } }, memory_stats: {} }), undefined);
  assert.equal(usageFromStats({ cpu_stats: { cpu_usage: { total_usage: -1 } }, memory_stats: { usage: 5 } }), undefined);
  assert.equal(usageFromStats({ cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: Number.NaN } }), undefined);
  // A counter named like an Object.prototype key is not read from the prototype.
  assert.equal(usageFromStats({ cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 100, stats: JSON.parse('{"__proto__": {"inactive_file": 99}}') } })?.memoryBytes, 100);
});
