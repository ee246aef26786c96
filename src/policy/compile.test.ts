import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, MAX_EXPR_CHARS, PolicyProblem, type PolicySpec } from './compile.ts';
import { evaluate, evaluateAll } from './evaluate.ts';
import { MAX_FACT_ENTRIES, type Facts } from './facts.ts';

const GiB = 1024 ** 3;
const facts = (over: Partial<Facts> = {}): Facts => ({
  host: { diskFreeBytes: 50 * GiB, load1: 0.5, memoryFreeBytes: 4 * GiB, memoryTotalBytes: 8 * GiB, cores: 4 },
  app: { name: 'shop' },
  release: { version: 3, image: null, env: ['DATABASE_URL', 'SECRET_KEY'], processes: { web: 2, worker: 1 }, checks: [] },
  ...over,
});
const spec = (expr: string, over: Partial<PolicySpec> = {}): PolicySpec => ({ name: 'p', when: 'deploy', expr, message: 'no', source: { file: 'policies/t.yaml', line: 3 }, ...over });
const refused = (expr: string, pattern: RegExp, over: Partial<PolicySpec> = {}) =>
  assert.throws(() => compilePolicy(spec(expr, over)), (e: unknown) => e instanceof PolicyProblem && pattern.test(e.message));

test('a policy allows when its expression is true and denies with its message when false', () => {
  const disk = compilePolicy(spec('host.diskFreeBytes >= 1073741824', { message: 'disk almost full' }));
  const ok = evaluate(disk, facts());
  assert.equal(ok.allowed, true);
  assert.equal(ok.reason, 'passed');
  assert.deepEqual(ok.facts, { 'host.diskFreeBytes': 50 * GiB });
  const denied = evaluate(disk, facts({ host: { ...facts().host, diskFreeBytes: 100 } }));
  assert.equal(denied.allowed, false);
  assert.equal(denied.reason, 'disk almost full');
  const load = compilePolicy(spec('host.load1 <= 4.0 * double(host.cores)'));
  assert.equal(evaluate(load, facts()).allowed, true);
  assert.equal(evaluate(load, facts({ host: { ...facts().host, load1: 16.5 } })).allowed, false);
});

test('list and map facts: env names, processes with replicas, macros', () => {
  const p = compilePolicy(spec('"DATABASE_URL" in release.env && release.processes["web"] >= 2 && release.processes.all(n, release.processes[n] <= 10) && release.image == null'));
  const v = evaluate(p, facts());
  assert.equal(v.allowed, true);
  assert.deepEqual(Object.keys(v.facts), ['release.env', 'release.image', 'release.processes']);
  // Only names are facts: the verdict shows names, and the facts never held a value.
  assert.deepEqual(v.facts['release.env'], ['DATABASE_URL', 'SECRET_KEY']);
  assert.equal(evaluate(p, facts({ release: { ...facts().release, processes: { web: 1 } } })).allowed, false);
});

test('an error at run time fails closed and says why', () => {
  const p = compilePolicy(spec('release.processes["worker"] >= 1', { message: 'needs a worker' }));
  const v = evaluate(p, facts({ release: { ...facts().release, processes: { web: 1 } } }));
  assert.equal(v.allowed, false);
  assert.match(v.reason, /^needs a worker \(the policy failed, so it denies: .*worker/);
  const div = compilePolicy(spec('100 / (host.cores - 4) > 1'));
  assert.equal(evaluate(div, facts()).allowed, false);
  assert.match(evaluate(div, facts()).reason, /divide by zero/);
});

test('an unknown fact is refused at load, naming it, its column and the known ones', () => {
  refused('host.diskFree > 1', /unknown fact "host.diskFree" \(column 1\) at moment deploy; known: host.diskFreeBytes/);
  refused('app.name == "x" && hots.load1 < 1.0', /unknown fact "hots.load1" \(column 20\)/);
  refused('canary.errorRate < 0.01', /unknown fact "canary.errorRate".*it exists only at canary_step, promote/);
  // Comprehension variables are not facts.
  assert.ok(compilePolicy(spec('release.env.all(name, !name.startsWith("DEBUG"))')));
  refused('release.env.all(name, nome == "x")', /unknown fact "nome"/);
});

test('a parse error, a type error, a non-bool and oversized expressions are refused at load', () => {
  refused('host.load1 > (', /does not parse: at 1:\d+: found/);
  refused('host.diskFreeBytes > "big"', /does not type-check: found no matching overload/);
  refused('nosuch(host.cores)', /does not type-check: unbound function: nosuch/);
  refused('host.cores + 1', /must give true \(allowed\) or false \(denied\)/);
  refused(`${'1 + '.repeat(200)}1 > 0`, /too complex/);
  refused(`"${'a'.repeat(MAX_EXPR_CHARS)}" == app.name`, /characters; at most 1024/);
  refused('release.env.all(a, release.env.all(b, a == b))', /a macro \(all, exists, exists_one, map, filter\) cannot hold another/);
});

test('canary facts come from Metrics.appTraffic-shaped figures; no requests read as 0', () => {
  const traffic = (errorRate: number | null, p99: number | null, requests = 100) => ({ requests, requestsPerSecond: requests / 60, errorRate, latencyMs: { p50: 10, p95: 50, p99 } });
  const p = compilePolicy(spec('canary.errorRate <= 0.01 && canary.p99 <= 500.0 && canary.errorRate <= stable.errorRate + 0.005', { when: 'promote' }));
  assert.equal(evaluate(p, facts({ canary: traffic(0.004, 120), stable: traffic(0.001, 100) })).allowed, true);
  assert.equal(evaluate(p, facts({ canary: traffic(0.3, 120), stable: traffic(0.001, 100) })).allowed, false);
  assert.equal(evaluate(p, facts({ canary: traffic(0, 2100), stable: traffic(0, 100) })).allowed, false);
  const guard = compilePolicy(spec('canary.requests >= 50', { when: 'canary_step' }));
  assert.equal(evaluate(guard, facts({ canary: traffic(null, null, 0), stable: traffic(0, 100) })).allowed, false);
  // Without canary facts (called at the wrong moment) the policy fails closed rather than passing.
  assert.equal(evaluate(p, facts()).allowed, false);
});

test('the worst evaluation the bounds allow stays fast, and a judgement stops at its budget', () => {
  const env = Array.from({ length: 5000 }, (_, i) => `VAR_${'X'.repeat(200)}_${i}`);
  const heavy = `release.env.map(a, a + a + a + a).size() > 0 && ${Array.from({ length: 20 }, () => 'release.env.all(a, a.size() > 3)').join(' && ')}`;
  const p = compilePolicy(spec(heavy));
  const started = performance.now();
  const v = evaluate(p, facts({ release: { ...facts().release, env } }));
  const ms = performance.now() - started;
  assert.equal(v.allowed, true);
  assert.equal((v.facts['release.env'] as string[]).length, 20, 'a verdict shows at most 20 entries of a list');
  // At most MAX_FACT_ENTRIES entries are bound: 21 passes over 200, not over 5000.
  assert.ok(ms < 500, `took ${ms} ms over ${MAX_FACT_ENTRIES} entries`);
  const all = evaluateAll([p, p, p], 'deploy', facts({ release: { ...facts().release, env } }), 0);
  assert.deepEqual(all.map((x) => x.allowed), [true, false, false]);
  assert.match(all[1]!.reason, /not judged, so it denies: the policies before it took over 0 ms/);
});
