import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBerthError } from '../errors/catalogue.ts';
import { main, splitCommandLine, unknownCommand, wantsHelp } from './main.ts';
import { COMMAND_NAMES } from './registry.ts';
import { testIo } from './cli.test-support.ts';

const BIN = fileURLToPath(new URL('../../bin/berth', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('bin/berth --help lists every command with a one-line description', async () => {
  const { code, stdout, stderr } = await run(['--help']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^berth: /);
  for (const name of COMMAND_NAMES) assert.match(stdout, new RegExp(`^  ${name} +[A-Z].+\\.$`, 'm'), name);
  assert.match(stdout, /--json/);
});

test('bin/berth nope exits 2 with the usage line and a hint; a near miss gets a suggestion', async () => {
  const nope = await run(['nope']);
  assert.equal(nope.code, 2);
  assert.equal(nope.stdout, '');
  assert.equal(nope.stderr, 'error: unknown command "nope"\nusage: berth <command> [arguments] [flags]\nhint: `berth --help` lists every command\n');
  const typo = await run(['deplyo']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /hint: did you mean `berth deploy`\?/);
});

test('bin/berth works through a symlink, and prints its version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bin-'));
  try {
    await symlink(BIN, join(dir, 'berth'));
    const { code, stdout } = await run(['--version'], {}, join(dir, 'berth'));
    assert.equal(code, 0);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(stdout, `berth ${pkg.version}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('berth up prints the daemon log\'s last lines and exits 1 when the server cannot start', async () => {
  const data = await mkdtemp(join(tmpdir(), 'berth-up-'));
  try {
    const { code, stdout, stderr } = await run(['up', '--data', data, '--api', 'not-an-address'], { NO_COLOR: '1' });
    assert.equal(code, 1, stderr);
    assert.match(stdout, /^starting the berth server \(pid \d+, log .*daemon\.log\)\n/);
    assert.match(stderr, /last lines of .*daemon\.log:\n(  \| .*\n)+/);
    assert.match(stderr, /--api: "not-an-address" is not HOST:PORT/);
    assert.match(stderr, /error: the berth server did not start: it exited with code 1\nhint: the log above says why/);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('the command line splits into leading global flags, the command and the rest', () => {
  assert.deepEqual(splitCommandLine(['--json', '--url', 'http://x', 'apps', '--token', 't']), { leading: ['--json', '--url', 'http://x'], command: 'apps', rest: ['--token', 't'] });
  assert.deepEqual(splitCommandLine(['--url=http://x', 'logs', 'hello', '-f']), { leading: ['--url=http://x'], command: 'logs', rest: ['hello', '-f'] });
  assert.deepEqual(splitCommandLine(['-h']), { leading: ['-h'], rest: [] });
  assert.throws(() => splitCommandLine(['--app', 'x', 'deploy']), (error) => isBerthError(error) && error.code === 'USAGE' && /unknown flag --app before the command/.test(error.message));
  assert.throws(() => splitCommandLine(['--url']), /--url needs a value/);
  assert.equal(wantsHelp(['deploy', '--help']), true);
  assert.equal(wantsHelp(['env', 'set', 'app', '--', '--help']), false);
  assert.equal(unknownCommand('stauts').hint, 'did you mean `berth status`? (`berth --help` lists every command)');
});

test('help for a command and a subcommand; --help anywhere on the line', async () => {
  for (const argv of [['help', 'deploy'], ['deploy', '--help'], ['--help', 'deploy'], ['deploy', 'some-dir', '-h']]) {
    const io = testIo();
    assert.equal(await main(argv, io), 0, argv.join(' '));
    assert.match(io.stdout.text, /^usage: berth deploy \[dir\] \[--app NAME\] \[--image REF\] \[--strategy blue-green\|rolling\|canary\] \[--skip-checks\] \[--wait\] \[--detach\]\n/, argv.join(' '));
    assert.match(io.stdout.text, /-a, --app NAME/);
  }
  const sub = testIo();
  assert.equal(await main(['help', 'env', 'set'], sub), 0);
  assert.match(sub.stdout.text, /^usage: berth env set <app> KEY=VALUE\.\.\.\n/);
  const none = testIo();
  assert.equal(await main([], none), 0);
  assert.match(none.stdout.text, /^berth: /);
  const unknown = testIo();
  assert.equal(await main(['help', 'nope'], unknown), 2);
});

test('with --json a failure is also JSON on stdout, with the stable code and the hint', async () => {
  const io = testIo({ env: { HOME: '/nonexistent' } });
  assert.equal(await main(['status', 'hello', '--json', '--url', 'http://127.0.0.1:1', '--token', 't'], io), 1);
  const { error } = JSON.parse(io.stdout.text) as { error: { code: string; message: string; hint: string } };
  assert.equal(error.code, 'DAEMON_UNREACHABLE');
  assert.match(error.message, /127\.0\.0\.1:1/);
  assert.ok(error.hint);
  assert.match(io.stderr.text, /^error: /, 'people still read it on stderr');

  const theirs = testIo({ env: { HOME: '/nonexistent' } });
  assert.equal(await main(['run', 'hello', '--url', 'http://127.0.0.1:1', '--token', 't', '--', 'tool', '--json'], theirs), 1);
  assert.equal(theirs.stdout.text, '', 'a --json after -- belongs to the command run, not to berth');

  const usage = testIo();
  assert.equal(await main(['status', '--json'], usage), 2);
  assert.equal((JSON.parse(usage.stdout.text) as { error: { code: string } }).error.code, 'USAGE');
});
