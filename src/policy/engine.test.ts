/**
 * The policy worker (./engine.ts) as the real child process: warm reuse, the budget as a hard stop for
 * an expression whose cost explodes (the worker killed, the next judgement on a fresh one), the heap cap,
 * a load-time check that runs away, the worker ending after its idle time, and closing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PolicyEngine, WALL_FACTOR, type EngineOptions } from './engine.ts';
import type { Facts } from './facts.ts';
import { JUDGEMENT_BUDGET_MS, PolicyGate } from './gate.ts';
import type { LoadedPolicy } from './specs.ts';

const GiB = 1024 ** 3;
const facts: Facts = {
  host: { diskFreeBytes: 50 * GiB, load1: 0.5, memoryFreeBytes: 4 * GiB, memoryTotalBytes: 8 * GiB, cores: 4 },
  app: { name: 'shop' },
  // 200 env names: what a fact list is cut to (MAX_FACT_ENTRIES), and what the exploding expressions feed on.
  release: { version: 3, image: null, env: Array.from({ length: 200 }, (_, i) => `VAR_${i}`), processes: { web: 2 }, checks: [] },
};

/**
 * Each `.map(b, b + b)` doubles every inner list of 200 lists of 200 names (lazily: little memory), and
 * `"nope" in b` then walks them all: 200 x 200 x 2^20 comparisons, hours of CPU within every bound
 * ./compile.ts sets (341 characters). The load-time trial passes quickly: `app.name` is "app" there.
 */
const RUNAWAY = `app.name == "app" || release.env.map(a, release.env)${'.map(b, b + b)'.repeat(20)}.exists(b, "nope" in b)`;
/** One list of the 200 names doubled 16 times (lazily), then each of its 13 million entries copied: past a 32 MB heap. */
const BALLOON = `app.name == "app" || [release.env].map(l, l + l)${'.map(l, l + l)'.repeat(15)}[0].map(x, x + x).size() > 0`;

const policy = (name: string, expr: string, factsRead: string[] = []): LoadedPolicy => ({ name, when: 'deploy', expr, message: `${name} says no`, source: { file: 'policies/t.yaml', line: 2 }, facts: factsRead });
const ok = policy('disk', 'host.diskFreeBytes >= 1073741824', ['host.diskFreeBytes']);

function engineOf(t: { after(fn: () => Promise<void>): void }, options: Partial<EngineOptions> = {}): PolicyEngine {
  const engine = new PolicyEngine(options);
  t.after(() => engine.close());
  return engine;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the first judgement starts the worker; the next ones reuse it (cold and warm latency)', async (t) => {
  const engine = engineOf(t);
  assert.equal(engine.running, false, 'nothing runs before the first use');
  const cold = performance.now();
  const first = await engine.judge('deploy', [ok], facts);
  const coldMs = performance.now() - cold;
  assert.deepEqual(first.map((v) => [v.policy, v.allowed, v.reason, v.facts]), [['disk', true, 'passed', { 'host.diskFreeBytes': 50 * GiB }]]);
  const warmMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const again = await engine.judge('deploy', [ok, policy('cores', 'host.cores >= 8')], facts);
    warmMs.push(performance.now() - started);
    assert.deepEqual(again.map((v) => [v.policy, v.allowed]), [['disk', true], ['cores', false]]);
  }
  assert.equal(engine.starts, 1, 'one worker for all six');
  t.diagnostic(`cold ${coldMs.toFixed(1)} ms, warm ${warmMs.map((ms) => ms.toFixed(1)).join(' / ')} ms`);
  assert.deepEqual(await engine.judge('promote', [ok], facts), [], 'no policy of the moment: nothing to judge');
});

test('an expression whose cost explodes is stopped at the budget and denies; the next judgement runs on a new worker', async (t) => {
  const engine = engineOf(t);
  const budgetMs = 300;
  await engine.judge('deploy', [ok], facts); // started: the budget counts from a loaded worker
  const started = performance.now();
  const verdicts = await engine.judge('deploy', [ok, policy('runaway', RUNAWAY, ['app.name', 'release.env']), policy('after', 'true')], facts, budgetMs);
  const ms = performance.now() - started;
  // A runaway uses a core to the full, so it is stopped once it has used its budget of CPU; on a busy host that
  // takes longer in wall time, but never past WALL_FACTOR times the budget (plus the kill).
  assert.ok(ms >= budgetMs && ms < budgetMs * WALL_FACTOR + 2000, `answered after ${ms.toFixed(0)} ms with a ${budgetMs} ms budget`);
  assert.deepEqual(verdicts.map((v) => [v.policy, v.allowed]), [['disk', true], ['runaway', false], ['after', false]]);
  assert.equal(verdicts[0]!.reason, 'passed', 'what was decided before the runaway stays decided');
  assert.equal(verdicts[1]!.reason, 'runaway says no (stopped, so it denies: the policies took over 300 ms)');
  assert.equal((verdicts[1]!.facts['release.env'] as string[]).length, 20, 'the stopped policy still shows the facts it reads');
  assert.equal(verdicts[2]!.reason, 'after says no (not judged, so it denies: the policies before it took over 300 ms)');
  assert.equal(engine.running, false, 'the worker was terminated');
  const next = await engine.judge('deploy', [ok], facts, budgetMs);
  assert.deepEqual(next.map((v) => v.allowed), [true]);
  assert.equal(engine.starts, 2, 'a fresh worker for the next judgement');
  assert.equal(engine.exits, 1, 'the stopped worker\'s thread ended');
});

test('through the gate: a runaway in a policy file loads, then denies the deploy at JUDGEMENT_BUDGET_MS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-policy-runaway-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'slow.yaml'), `policies:\n  - name: slow\n    when: deploy\n    expr: '${RUNAWAY}'\n    message: too slow\n`);
  const gate = new PolicyGate({ dir, dataDir: dir, host: () => facts.host });
  t.after(() => gate.close());
  assert.deepEqual((await gate.policies()).problems, [], 'the load-time trial does not reach the explosion');
  const started = performance.now();
  const judged = await gate.judge('deploy', { app: facts.app, release: facts.release });
  const ms = performance.now() - started;
  assert.deepEqual(judged.verdicts.map((v) => [v.policy, v.allowed, v.reason]), [['slow', false, `too slow (stopped, so it denies: the policies took over ${JUDGEMENT_BUDGET_MS} ms)`]]);
  assert.ok(ms >= JUDGEMENT_BUDGET_MS && ms < JUDGEMENT_BUDGET_MS * WALL_FACTOR + 2000, `answered after ${ms.toFixed(0)} ms`);
});

test('an expression that needs more than the worker\'s heap denies, and only the worker pays', async (t) => {
  const engine = engineOf(t, { heapMb: 32 });
  const before = process.memoryUsage().heapUsed;
  const verdicts = await engine.judge('deploy', [policy('balloon', BALLOON), ok], facts, 20_000);
  assert.deepEqual(verdicts.map((v) => [v.policy, v.allowed, v.reason]), [
    ['balloon', false, 'balloon says no (stopped, so it denies: it needed more than 32 MB of memory)'],
    ['disk', false, 'disk says no (not judged, so it denies: a policy before it was stopped)'],
  ]);
  assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 ** 2, 'the daemon\'s own heap did not hold the list');
  assert.deepEqual((await engine.judge('deploy', [ok], facts)).map((v) => v.allowed), [true]);
});

test('a load-time check that runs away refuses that policy only; the others are checked on a new worker', async (t) => {
  const engine = engineOf(t, { checkBudgetMs: 300 });
  // The trial run on sample facts: a one-name env, a ten-element literal doubled 22 times.
  const slow = `release.env.map(a, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])${'.map(b, b + b)'.repeat(22)}.exists(b, 99 in b)`;
  const outcomes = await engine.check([{ when: 'deploy', expr: 'host.cores > 1' }, { when: 'deploy', expr: slow }, { when: 'deploy', expr: 'host.coers > 1' }]);
  assert.deepEqual(outcomes[0], { facts: ['host.cores'] });
  assert.deepEqual(outcomes[1], { problem: 'checking the expr on sample facts took over 300 ms; simplify it' });
  assert.match((outcomes[2] as { problem: string }).problem, /^unknown fact "host.coers" \(column 1\) at moment deploy/);
  assert.equal(engine.starts, 2);
  // Outcomes are remembered on the daemon's side: asking again starts no worker.
  await engine.close();
  const again = new PolicyEngine({ checkBudgetMs: 300 });
  t.after(() => again.close());
  assert.deepEqual((await again.check([{ when: 'deploy', expr: 'host.cores > 1' }]))[0], { facts: ['host.cores'] });
  const startsAfterOne = again.starts;
  assert.deepEqual((await again.check([{ when: 'deploy', expr: 'host.cores > 1' }, { when: 'deploy', expr: 'host.cores > 1' }])).length, 2);
  assert.equal(again.starts, startsAfterOne, 'a remembered outcome needs no worker');
});

test('the worker ends after its idle time, handing its memory back; the next judgement starts another', async (t) => {
  const engine = engineOf(t, { idleMs: 300 });
  await engine.judge('deploy', [ok], facts);
  assert.equal(engine.running, true);
  const pid = engine.pid!;
  assert.doesNotThrow(() => process.kill(pid, 0), 'the worker process is alive');
  await until('the worker to end', () => engine.exits === 1);
  assert.equal(engine.running, false);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'its process is gone, and its memory with it');
  assert.deepEqual((await engine.judge('deploy', [ok], facts)).map((v) => v.allowed), [true]);
  assert.equal(engine.starts, 2);
  // A request within the idle time keeps the same worker.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await engine.judge('deploy', [ok], facts);
  assert.equal(engine.starts, 2);
  assert.equal(engine.exits, 1);
});

test('closing (the daemon stops) ends a judgement in flight: it denies, and later requests fail closed', async (t) => {
  const engine = engineOf(t);
  const pending = engine.judge('deploy', [policy('runaway', RUNAWAY)], facts, 60_000);
  await until('the worker to start', () => engine.running);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await engine.close();
  assert.deepEqual((await pending).map((v) => [v.allowed, v.reason]), [[false, 'runaway says no (not judged, so it denies: the policy engine is closing)']]);
  assert.equal(engine.running, false);
  assert.match((await engine.judge('deploy', [ok], facts))[0]!.reason, /not judged, so it denies: the policy engine is closed/);
  assert.deepEqual(await engine.check([{ when: 'deploy', expr: 'true' }]), [{ problem: 'expr could not be checked: the policy engine is closed' }]);
});

test('the worker process does not outlive a daemon killed without warning', async (t) => {
  const script = `import { PolicyEngine } from ${JSON.stringify(new URL('./engine.ts', import.meta.url).href)};
const engine = new PolicyEngine();
await engine.check([{ when: 'deploy', expr: 'true' }]);
process.stdout.write(String(engine.pid));
setInterval(() => {}, 1000);`;
  const daemon = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => daemon.kill('SIGKILL'));
  let out = '';
  daemon.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until('the worker to start', () => /^\d+$/.test(out));
  const pid = Number(out);
  assert.doesNotThrow(() => process.kill(pid, 0));
  daemon.kill('SIGKILL');
  await until('the orphaned worker to exit', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
});

test('the budget is the worker\'s CPU time: a worker starved of CPU (stopped for twice the budget) still judges, and allows', async (t) => {
  const engine = engineOf(t);
  await engine.judge('deploy', [ok], facts); // started and warm
  const pid = engine.pid!;
  // SIGSTOP: the worker gets no CPU at all, as on a machine far busier than its cores, for 2 x the budget.
  process.kill(pid, 'SIGSTOP');
  const resumed = setTimeout(() => process.kill(pid, 'SIGCONT'), 600);
  t.after(() => clearTimeout(resumed));
  const started = performance.now();
  const verdicts = await engine.judge('deploy', [ok, policy('load', 'host.load1 < 10.0', ['host.load1'])], facts, 300);
  const tookMs = performance.now() - started;
  assert.deepEqual(verdicts.map((v) => [v.policy, v.allowed, v.reason]), [['disk', true, 'passed'], ['load', true, 'passed']]);
  assert.ok(tookMs >= 550, `it waited for the stopped worker (${tookMs.toFixed(0)} ms)`);
  assert.equal(engine.pid, pid, 'the same worker: it was not killed');
});
