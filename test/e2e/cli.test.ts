import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, BIN, TestBerth } from '../support/berth.ts';

/** The real CLI (bin/berth) against a real daemon, reached by URL and token as a remote one would be. */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

const berthCli = (args: string[], options?: { env?: Record<string, string>; input?: string; cwd?: string }) => berth.cli(args, options);

const manifest = 'name: clidemo\nhealth:\n  path: /health\n  interval: 200ms\ndeploy:\n  drain_timeout: 1s\n';

describe('berth CLI against a real server', () => {
  let dir: string;
  before(() => {
    dir = appCopy('versioned', { 'berth.yaml': manifest });
  });

  test('init writes a commented berth.yaml and refuses to overwrite it', () => {
    const fresh = appCopy('versioned');
    rmSync(join(fresh, 'berth.yaml'), { force: true });
    const first = berthCli(['init', fresh]);
    assert.equal(first.code, 0, first.err);
    const text = readFileSync(join(fresh, 'berth.yaml'), 'utf8');
    assert.match(text, /^name: versioned$/m);
    assert.match(text, /# health:/);
    const again = berthCli(['init', fresh]);
    assert.equal(again.code, 1);
    assert.match(again.err, /--force/);
  });

  test('deploy shows progress as plain lines and ends with the URL and release', () => {
    const result = berthCli(['deploy', dir]);
    assert.equal(result.code, 0, result.err + result.out);
    assert.match(result.out, /health: web\.0 ok/);
    assert.match(result.out, new RegExp(`deployed clidemo v1 \\(rel_[a-z0-9]+\\) -> http://clidemo\\.localhost:${berth.httpPort}`));
  });

  test('apps, status and releases print for humans, and --json for scripts', () => {
    const apps = berthCli(['apps']);
    assert.equal(apps.code, 0, apps.err);
    assert.match(apps.out, /clidemo\s+running\s+v1/);
    const status = berthCli(['status', 'clidemo']);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /serving/);
    const json = JSON.parse(berthCli(['status', 'clidemo', '--json']).out);
    assert.equal(json.app.release.name, 'v1');
    assert.equal(json.lastDeployment.state, 'succeeded');
    const releases = berthCli(['releases', 'clidemo', '--json']);
    assert.equal(JSON.parse(releases.out).releases[0].name, 'v1');
  });

  test('env set rolls out, env list shows names only unless --reveal, values never printed otherwise', () => {
    const set = berthCli(['env', 'set', 'clidemo', 'GREETING=hi=there', 'SECRET_TOKEN=-'], { input: 'tok_abcdef123456\n' });
    assert.equal(set.code, 0, set.err + set.out);
    assert.doesNotMatch(set.out + set.err, /tok_abcdef123456|hi=there/);
    assert.match(set.out, /released clidemo v2/);
    const list = berthCli(['env', 'list', 'clidemo']);
    assert.match(list.out, /GREETING/);
    assert.doesNotMatch(list.out, /hi=there|tok_abcdef123456/);
    const reveal = berthCli(['env', 'list', 'clidemo', '--reveal']);
    assert.match(reveal.out, /hi=there/);
    assert.match(reveal.out, /tok_abcdef123456/);
  });

  test('logs: tail, and -f follows until interrupted', async () => {
    const tail = berthCli(['logs', 'clidemo', '--tail', '20']);
    assert.equal(tail.code, 0, tail.err);
    assert.match(tail.out, /using token \*\*\*/);
    assert.doesNotMatch(tail.out, /tok_abcdef123456/);
    const follow = spawn(BIN, ['logs', 'clidemo', '-f', '--tail', '1'], { env: berth.cliEnv() });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // The tail line arrives once the stream is open; only then is every later line sure to be followed.
    await waitFor('the tail line', () => out.trim().length > 0, 15_000);
    const before = out.length;
    await request({ port: berth.httpPort, host: 'clidemo.localhost', path: '/' });
    // A restart of the app writes new lines: change the env to make one.
    const rolled = berthCli(['env', 'set', 'clidemo', 'GREETING=again']);
    assert.equal(rolled.code, 0, rolled.err);
    await waitFor('a followed line', () => out.slice(before).includes('listening on'), 15_000);
    const exited = new Promise<number | null>((r) => follow.once('exit', (code) => r(code)));
    follow.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  test('run: output streams back, the exit code is the command\'s, and Ctrl-C stops the command', async () => {
    const quick = berthCli(['run', 'clidemo', '--', 'sh', '-c', 'echo from-run; exit 3']);
    assert.equal(quick.code, 3, quick.err);
    assert.match(quick.out, /^from-run$/m);

    const long = spawn(BIN, ['run', 'clidemo', '--', 'node', '-e', "console.log('started'); setInterval(() => {}, 1000)"], { env: berth.cliEnv() });
    let out = '';
    long.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the command to start', () => out.includes('started'), 15_000);
    const exited = new Promise<number | null>((r) => long.once('exit', (code) => r(code)));
    long.kill('SIGINT');
    assert.equal(await exited, 130);
    // The server stops the command when the stream closes; it would otherwise run for the default 30 minutes.
    const finished = await waitFor('the run to be stopped', async () => {
      const { events } = (await berth.api('GET', '/v1/apps/clidemo/events?limit=50')).body;
      return events.find((e: any) => e.type === 'run.finished' && e.message.includes('setInterval'));
    });
    assert.match(finished.message, /^run stopped \(the client went away\)/);
    assert.deepEqual(berth.ownedProcesses().filter((p) => p.build === finished.data.run), [], 'nothing of the command is left running');
  });

  test('rollback goes back a release and says so', () => {
    const result = berthCli(['rollback', 'clidemo', 'v1']);
    assert.equal(result.code, 0, result.err + result.out);
    assert.match(result.out, /rolled back clidemo to v1/);
  });

  test('a failing deploy exits 1 with the reason, the hint and the log tail', () => {
    const broken = appCopy('versioned', { 'berth.yaml': manifest.replace('interval: 200ms', 'interval: 200ms\n  deadline: 2s') + 'env:\n  NEVER_HEALTHY: "1"\n' });
    const result = berthCli(['deploy', broken]);
    assert.equal(result.code, 1);
    assert.match(result.err, /never became healthy/);
    assert.match(result.err, /hint: /);
    assert.match(result.err, /is still serving clidemo/);
  });

  test('an invalid berth.yaml is refused before uploading, with every issue', () => {
    const bad = appCopy('versioned', { 'berth.yaml': 'name: clidemo\nhealth:\n  interval: 5\nprocesses:\n  web:\n    replicas: 0\n' });
    const result = berthCli(['deploy', bad]);
    assert.equal(result.code, 1);
    assert.match(result.err, /health\.interval/);
    assert.match(result.err, /processes\.web\.replicas/);
  });

  test('bad usage exits 2 with the usage line; unknown apps exit 1 with a hint', () => {
    const usage = berthCli(['rollback']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /usage: berth rollback/);
    const unknown = berthCli(['status', 'ghost']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /app "ghost" does not exist/);
    assert.match(unknown.err, /berth apps/);
    const badToken = berthCli(['apps'], { env: { BERTH_TOKEN: 'berth_wrong' } });
    assert.equal(badToken.code, 1);
    assert.match(badToken.err, /not valid/);
  });

  test('login stores a remote server, so later commands need no environment', () => {
    const login = berthCli(['login', berth.apiUrl, '--token', berth.token], { env: { BERTH_URL: '', BERTH_TOKEN: '' } });
    assert.equal(login.code, 0, login.err);
    assert.ok(existsSync(join(berth.cliEnv().XDG_CONFIG_HOME, 'berth', 'config.json')));
    const apps = berthCli(['apps', '--json'], { env: { BERTH_URL: '', BERTH_TOKEN: '' } });
    assert.equal(apps.code, 0, apps.err);
    assert.equal(JSON.parse(apps.out).apps[0].name, 'clidemo');
  });

  test('destroy removes the app', () => {
    const refused = berthCli(['destroy', 'clidemo']);
    assert.equal(refused.code, 2, 'no --yes and no terminal to confirm on');
    const result = berthCli(['destroy', 'clidemo', '--yes']);
    assert.equal(result.code, 0, result.err);
    assert.equal(berthCli(['status', 'clidemo']).code, 1);
  });
});
