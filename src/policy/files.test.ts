import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_POLICIES_YAML, writeDefaultPolicies } from './defaults.ts';
import { MAX_FILE_BYTES, PolicyFiles } from './files.ts';
import { PolicyGate } from './gate.ts';
import { describeProblem } from './specs.ts';

const GiB = 1024 ** 3;
const host = { diskFreeBytes: 20 * GiB, load1: 0.2, memoryFreeBytes: GiB, memoryTotalBytes: 4 * GiB, cores: 2 };
const release = { version: 1, image: null, env: [], processes: { web: 1 }, checks: [] };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A gate over `dir` with fixed host facts; its policy worker ends with the test. */
function gateOf(t: { after(fn: () => Promise<void>): void }, dir: string, hostFacts = host): PolicyGate {
  const gate = new PolicyGate({ dir, dataDir: dir, host: () => hostFacts });
  t.after(() => gate.close());
  return gate;
}
const allowed = async (gate: PolicyGate, moment: 'deploy' | 'promote', facts: object = {}) => (await gate.judge(moment, { app: { name: 'x' }, release, ...facts })).verdicts.map((v) => v.allowed);

/** Writes a file with an mtime one second on, so the change shows however coarse the filesystem's clock. */
function rewrite(path: string, text: string): void {
  const before = statSync(path).mtimeMs;
  writeFileSync(path, text);
  const next = new Date(before + 1000);
  utimesSync(path, next, next);
}

const yaml = (threshold: number) => `policies:
  - name: disk-free
    when: deploy
    expr: host.diskFreeBytes >= ${threshold}
    message: not enough disk
`;

test('server policies load from DATA/policies with file and line, and a changed threshold applies without a restart', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.yaml'), yaml(GiB));
  writeFileSync(join(dir, 'notes.txt'), 'not a policy file');
  const gate = gateOf(t, dir);
  const first = await gate.policies();
  assert.deepEqual(first.problems, []);
  assert.deepEqual(first.policies.map((p) => [p.name, p.source.file, p.source.line, p.facts]), [['disk-free', 'policies/a.yaml', 2, ['host.diskFreeBytes']]]);
  assert.deepEqual(await allowed(gate, 'deploy'), [true]);
  const files = new PolicyFiles(dir);
  assert.equal(files.read()[0], files.read()[0], 'an unchanged file is not read again');
  rewrite(join(dir, 'a.yaml'), yaml(100 * GiB));
  assert.deepEqual(await allowed(gate, 'deploy'), [false], 'the new threshold applies');
  unlinkSync(join(dir, 'a.yaml'));
  assert.deepEqual((await gate.policies()).policies, []);
});

test('bad files: problems name the file, the policy and the line; other files still load', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'broken.yaml'), 'policies:\n  - name: x\n    when: [deploy\n');
  writeFileSync(join(dir, 'fields.yaml'), `policies:
  - name: ok-one
    when: deploy
    expr: host.cores >= 1
    message: fine
  - name: no-message
    when: deploy
    expr: host.cores >= 1
  - name: typo
    when: deploy
    expr: host.coers >= 1
    message: m
  - name: moment
    when: later
    expr: "true"
    message: m
  - name: bad-cel
    when: deploy
    expr: host.cores >=
    message: m
`);
  writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
  writeFileSync(join(dir, 'many.yaml'), `policies:\n${Array.from({ length: 201 }, (_, i) => `  - { name: p${i}, when: deploy, expr: "true", message: m }\n`).join('')}`);
  const loaded = await gateOf(t, dir).policies();
  assert.deepEqual(loaded.policies.map((p) => p.name), ['ok-one']);
  const lines = loaded.problems.map(describeProblem);
  assert.match(lines[0]!, /^policies\/broken\.yaml: line \d+, column \d+: .*close every/);
  assert.equal(lines[1], 'policies/fields.yaml:6: policy "no-message": missing or not text: message');
  assert.match(lines[2]!, /^policies\/fields\.yaml:9: policy "typo": unknown fact "host.coers" \(column 1\)/);
  assert.match(lines[3]!, /^policies\/fields\.yaml:13: policy "moment": when: "later" is not a moment; use deploy, canary_step, promote/);
  assert.match(lines[4]!, /^policies\/fields\.yaml:17: policy "bad-cel": expr does not parse/);
  assert.match(lines[5]!, /^policies\/huge\.yaml: \d+ bytes; a policy file is at most 256 KiB/);
  assert.match(lines[6]!, /^policies\/many\.yaml:1: 201 policies; at most 200/);
  assert.equal(lines.length, 7);
});

test('the gate fails closed on a policy that does not load, and judges app policies with the server\'s', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.yaml'), yaml(GiB));
  const gate = gateOf(t, dir);
  const app = [{ name: 'two-web', when: 'deploy', expr: 'release.processes["web"] >= 2', message: 'run two web replicas' }];
  const judged = await gate.judge('deploy', { app: { name: 'x' }, release }, app);
  assert.deepEqual(judged.problems, []);
  assert.deepEqual(judged.verdicts.map((v) => [v.policy, v.allowed, v.reason, v.source.file]), [
    ['disk-free', true, 'passed', 'policies/a.yaml'],
    ['two-web', false, 'run two web replicas', 'berth.yaml'],
  ]);
  const bad = await gate.judge('deploy', { app: { name: 'x' }, release }, [{ name: 'oops', when: 'deploy', expr: 'releas.version > 0', message: 'm' }]);
  assert.equal(bad.problems.length, 1);
  assert.match(describeProblem(bad.problems[0]!), /^berth\.yaml: policy "oops": unknown fact "releas.version"/);
  // The real host facts: numbers from this machine.
  const real = new PolicyGate({ dir, dataDir: dir }).host();
  assert.ok(real.diskFreeBytes > 0 && real.cores >= 1 && real.memoryTotalBytes >= real.memoryFreeBytes);
});

test('the defaults are written on the first start only, load cleanly, and keep a deletion', async (t) => {
  const data = tempDir(t);
  const dir = join(data, 'policies');
  assert.equal(writeDefaultPolicies(dir), true);
  assert.equal(readFileSync(join(dir, 'defaults.yaml'), 'utf8'), DEFAULT_POLICIES_YAML);
  assert.equal(statSync(join(dir, 'defaults.yaml')).mode & 0o777, 0o600);
  const gate = gateOf(t, dir);
  const loaded = await gate.policies();
  assert.deepEqual(loaded.problems, []);
  assert.deepEqual(loaded.policies.map((p) => `${p.when}:${p.name}`), ['deploy:disk-free', 'deploy:load', 'canary_step:canary-error-rate', 'canary_step:canary-p99', 'promote:promote-error-rate', 'promote:promote-p99']);
  // The shipped thresholds: 1 GiB free and load <= 10 x cores; error rate 1 %, p99 500 ms.
  assert.deepEqual(await allowed(gate, 'deploy'), [true, true]);
  assert.deepEqual(await allowed(gate, 'deploy', { host: { ...host, diskFreeBytes: GiB - 1, load1: 20.5 } }), [false, false]);
  const traffic = (errorRate: number, p99: number) => ({ requests: 500, requestsPerSecond: 5, errorRate, latencyMs: { p50: 5, p95: 9, p99 } });
  const promote = (errorRate: number, p99: number) => allowed(gate, 'promote', { canary: traffic(errorRate, p99), stable: traffic(0, 50) });
  assert.deepEqual(await promote(0.005, 200), [true, true]);
  assert.deepEqual(await promote(0.02, 200), [false, true]);
  assert.deepEqual(await promote(0, 700), [true, false]);
  // Edited, then deleted by the user: a second start writes nothing.
  writeFileSync(join(dir, 'defaults.yaml'), yaml(5 * GiB));
  assert.equal(writeDefaultPolicies(dir), false);
  assert.equal(readFileSync(join(dir, 'defaults.yaml'), 'utf8'), yaml(5 * GiB));
  unlinkSync(join(dir, 'defaults.yaml'));
  assert.equal(writeDefaultPolicies(dir), false);
});
