import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, TestBerth } from '../support/berth.ts';

/**
 * The check pipeline (berth.yaml `checks:`) end to end on the process runtime: the real daemon, real
 * one-off processes, the real proxy and the real CLI. A failing lint stops a deploy before anything starts;
 * passing checks let it through; a `switch` check reaches the new instance at BERTH_TARGET_URL before any
 * traffic does, and a failing one keeps the old release serving; a check past its timeout is killed;
 * `--skip-checks` is in `berth audit`.
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start({ https: false });
});
after(async () => {
  await berth?.close();
});

const APP = 'pipeline';
const SECRET = 'sk-live-4f9a2c7e1b83d605';
const yaml = (version: string, checks = '') => `name: ${APP}
health:
  path: /health
  interval: 200ms
  healthy_after: 1
deploy:
  drain_timeout: 500ms
env:
  APP_VERSION: ${version}
${checks}`;
/** The scripts the checks run, in the app's folder (as a repo's lint and test scripts are). */
const SCRIPTS = {
  'lint-ok.js': "console.log('lint: 0 problems in 3 files');\n",
  'lint-bad.js': "console.log('checking 3 files with token ' + process.env.API_TOKEN);\nconsole.error('server.js:12 no-unused-vars: `sick` is assigned but never used');\nprocess.exit(1);\n",
  'test-ok.js': "console.log('ok 1 - answers its version');\nconsole.log('1..1');\n",
  // Asks the new instance itself (not the proxy: no traffic goes there yet) which version it runs.
  'smoke.js': [
    'const url = process.env.BERTH_TARGET_URL;',
    "const body = await (await fetch(url + '/smoke')).json();",
    "console.log(`smoke: ${url} runs ${body.version}; all: ${process.env.BERTH_TARGET_ADDRESSES}`);",
    'process.exit(body.version === process.env.APP_VERSION ? 0 : 1);',
    '',
  ].join('\n'),
  'smoke-bad.js': "const body = await (await fetch(process.env.BERTH_TARGET_URL + '/jobs')).json();\nconsole.log(`job on ${body.version} never finished`);\nprocess.exit(2);\n",
};
const check = (name: string, run: string, extra = '') => `  - name: ${name}\n    run: ${run}\n${extra}`;
const dir = appCopy('versioned', SCRIPTS);
const write = (text: string) => writeFileSync(join(dir, 'berth.yaml'), text);

const serving = async () => JSON.parse((await request({ port: berth.httpPort, host: `${APP}.localhost` })).body).version as string;
const events = async (id: string) =>
  ((await berth.api('GET', `/v1/events?app=${APP}&limit=1000`)).body.events as { deploymentId: string | null; type: string; message: string; data?: any }[]).filter((e) => e.deploymentId === id);
const upload = async () => {
  const reply = await berth.upload(APP, dir);
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  return berth.settle(reply.body.deployment.id, 'finished');
};
const releaseNames = async () => ((await berth.api('GET', `/v1/apps/${APP}`)).body.instances as { release: { name: string } }[]).map((i) => i.release.name);

describe('check pipeline on the process runtime', () => {
  test('a failing lint stops the deploy before any instance starts, naming the check, in the CLI output too; the old release keeps serving', { timeout: 120_000 }, async () => {
    write(yaml('one', `checks:\n${check('lint', 'node lint-ok.js')}`));
    await berth.deploy(APP, dir);
    // An env change runs no checks (its build passed them), and the secret it sets is masked in what a check prints.
    const env = await berth.cliAsync(['env', 'set', APP, `API_TOKEN=${SECRET}`]);
    assert.equal(env.code, 0, env.err);
    const [changed] = (await berth.api('GET', `/v1/apps/${APP}/deployments`)).body.deployments;
    assert.equal(changed.kind, 'env');
    assert.ok(!(await events(changed.id)).some((e) => e.type.startsWith('check')), 'no check ran for the env change');
    write(yaml('two', `checks:\n${check('lint', 'node lint-bad.js')}${check('test', 'node test-ok.js')}`));
    const before = await releaseNames();
    const cli = await berth.cliAsync(['deploy', dir, '--app', APP]);
    assert.equal(cli.code, 1, cli.out + cli.err);
    assert.match(cli.out, /check lint: checking 3 files with token \S+/);
    assert.ok(!(cli.out + cli.err).includes(SECRET), 'the secret is masked in the deploy output');
    assert.match(cli.out, /check lint: server\.js:12 no-unused-vars/, 'the check output streams to `berth deploy`');
    assert.match(cli.err, /check `lint` failed: exited with code 1/);
    assert.match(cli.err, /\| server\.js:12 no-unused-vars/, 'the last lines are in the report');
    assert.doesNotMatch(cli.out, /check test/, 'fail-fast: test never ran');
    const [failed] = (await berth.api('GET', `/v1/apps/${APP}/deployments`)).body.deployments;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.code, 'CHECK_FAILED');
    assert.ok(!JSON.stringify(await events(failed.id)).includes(SECRET), 'and in the events');
    const types = (await events(failed.id)).map((e) => e.type);
    assert.ok(!types.includes('instance.started') && !types.includes('release.log'), types.join(' '));
    assert.equal(failed.release, null, 'no release recorded for the failed build');
    assert.deepEqual(await releaseNames(), before, 'no instance of the failed build');
    assert.equal(await serving(), 'one');
  });

  test('lint and test pass, a switch check reaches the new instance at BERTH_TARGET_URL, then the switch', { timeout: 120_000 }, async () => {
    write(yaml('two', `checks:\n${check('lint', 'node lint-ok.js')}${check('test', 'node test-ok.js')}${check('smoke', 'node smoke.js', '    when: switch\n')}`));
    const d = await upload();
    assert.ok(['draining', 'succeeded'].includes(d.state), JSON.stringify(d.error));
    const all = await events(d.id);
    const checks = all.filter((e) => e.type === 'check.passed').map((e) => [e.data.check, e.data.when, e.data.exitCode]);
    assert.deepEqual(checks, [['lint', 'build', 0], ['test', 'build', 0], ['smoke', 'switch', 0]]);
    const smoke = all.find((e) => e.type === 'check.log' && e.data.check === 'smoke')!.message;
    assert.match(smoke, /^smoke: http:\/\/127\.0\.0\.1:\d+ runs two; all: 127\.0\.0\.1:\d+$/);
    const types = all.map((e) => e.type);
    assert.ok(types.indexOf('check.passed') < types.indexOf('instance.started'), 'build checks before any start');
    assert.ok(types.lastIndexOf('check.passed') < types.indexOf('deploy.switched'), 'the switch check before the switch');
    assert.equal(await serving(), 'two');
  });

  test('a failing switch check stops the deploy before the switch: its new instance stops, the old release keeps serving', { timeout: 120_000 }, async () => {
    write(yaml('three', `checks:\n${check('smoke', 'node smoke-bad.js', '    when: switch\n')}`));
    const d = await upload();
    assert.equal(d.state, 'failed');
    assert.equal(d.error.message, 'check `smoke` failed: exited with code 2');
    assert.ok(d.error.logTail.includes('job on three never finished'), JSON.stringify(d.error.logTail));
    assert.ok(!(await events(d.id)).some((e) => e.type === 'deploy.switched'));
    assert.equal(await serving(), 'two');
    await waitFor('the failed release to have no instance', async () => !(await releaseNames()).includes(d.release.name) || undefined, 10_000);
  });

  test('a check past its timeout is killed and fails the deploy, naming the timeout', { timeout: 120_000 }, async () => {
    const marker = `berth-slow-check-${process.pid}`;
    write(yaml('four', `checks:\n${check('test', `node -e "setTimeout(() => {}, 60000)" ${marker}`, '    timeout: 1s\n')}`));
    const d = await upload();
    assert.equal(d.state, 'failed');
    assert.equal(d.error.message, 'check `test` failed: it did not finish within 1.0 s and was stopped');
    assert.match(d.error.hint, /raise its `timeout`/);
    await waitFor('the check\'s process to be gone', () => !processWith(marker) || undefined, 5000);
    assert.equal(await serving(), 'two');
  });

  test('--skip-checks deploys without running any; `berth audit` lists the skip and the failed checks', { timeout: 120_000 }, async () => {
    write(yaml('five', `checks:\n${check('lint', 'node lint-bad.js')}${check('smoke', 'node smoke-bad.js', '    when: switch\n')}`));
    const cli = await berth.cliAsync(['deploy', dir, '--app', APP, '--skip-checks']);
    assert.equal(cli.code, 0, cli.out + cli.err);
    assert.match(cli.out, /checks skipped \(--skip-checks\): lint, smoke/);
    assert.equal(await serving(), 'five');
    const audit = await berth.cliAsync(['audit', APP]);
    assert.equal(audit.code, 0, audit.err);
    assert.match(audit.out, /## Checks skipped or failed/);
    assert.match(audit.out, /\| lint, smoke \| skipped with --skip-checks \(deployment dep\\_[a-z0-9]+\) \|/);
    assert.match(audit.out, /\| lint \| failed: exited with code 1 \(deployment dep\\_[a-z0-9]+\) \|/);
    assert.match(audit.out, /\| test \| failed: it did not finish within 1\.0 s and was stopped/);
    assert.match(audit.out, /\*\*Checks:\*\* 4 passed, 3 failed; 1 deploy skipped them/);
  });
});

/** A live process whose command line holds `marker` (the check's process group is killed at its timeout). */
function processWith(marker: string): boolean {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return true;
    } catch {}
  }
  return false;
}
