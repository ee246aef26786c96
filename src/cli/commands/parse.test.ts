/** Argument parsing of every command: what good input turns into, and the usage error bad input gets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../errors/catalogue.ts';
import { exitCodeFor } from '../errors.ts';
import { COMMAND_NAMES, findCommand, type CommandModule } from '../registry.ts';

async function load(name: string): Promise<CommandModule> {
  const loader = findCommand(name);
  assert.ok(loader, `no command ${name}`);
  return loader();
}

/** The parsed arguments without the global flags, which have their own cases below. */
async function parse(name: string, argv: string[]): Promise<Record<string, unknown>> {
  const { globals: _globals, ...rest } = (await load(name)).parse(argv) as Record<string, unknown> & { globals: unknown };
  return rest;
}

/** Asserts a usage error (exit code 2) whose message matches and which carries the command's usage line. */
async function rejects(name: string, argv: string[], message: RegExp): Promise<void> {
  const module = await load(name);
  assert.throws(
    () => module.parse(argv),
    (error) => {
      assert.ok(isBerthError(error), `not a BerthError: ${String(error)}`);
      assert.equal(error.code, 'USAGE');
      assert.equal(exitCodeFor(error), 2);
      assert.match(error.message, message);
      assert.match(String(error.details?.usage), /^berth /);
      return true;
    },
    `${name} ${argv.join(' ')}`,
  );
}

const good: [string, string[], Record<string, unknown>][] = [
  ['init', [], { dir: '.', force: false, name: undefined }],
  ['init', ['site', '--name', 'blog', '--force'], { dir: 'site', name: 'blog', force: true }],
  ['deploy', [], { dir: '.', app: undefined, skipChecks: false, wait: false, detach: false }],
  ['deploy', ['--image', 'ghcr.io/acme/web:1.4', '--app', 'web'], { dir: '.', app: 'web', image: 'ghcr.io/acme/web:1.4', skipChecks: false, wait: false, detach: false }],
  ['registry', ['list'], { sub: 'list' }],
  ['policy', ['list'], { sub: 'list' }],
  ['policy', ['list', '--app', 'shop'], { sub: 'list', app: 'shop' }],
  ['policy', ['check', 'shop'], { sub: 'check', app: 'shop' }],
  ['registry', ['logout', 'ghcr.io'], { sub: 'logout', host: 'ghcr.io' }],
  ['registry', ['login', 'ghcr.io', '--username', 'me', '--password-stdin'], { sub: 'login', host: 'ghcr.io', username: 'me', passwordStdin: true }],
  ['deploy', ['app-dir', '--app', 'shop', '--wait'], { dir: 'app-dir', app: 'shop', skipChecks: false, wait: true, detach: false }],
  ['deploy', ['-a', 'shop', '--detach'], { dir: '.', app: 'shop', skipChecks: false, wait: false, detach: true }],
  ['deploy', ['--strategy', 'canary', '--skip-checks'], { dir: '.', app: undefined, strategy: 'canary', skipChecks: true, wait: false, detach: false }],
  ['deploy', ['--app=shop'], { dir: '.', app: 'shop', skipChecks: false, wait: false, detach: false }],
  ['apps', [], {}],
  ['create', ['hello'], { app: 'hello' }],
  ['status', ['hello'], { app: 'hello' }],
  ['releases', ['hello'], { app: 'hello' }],
  ['top', [], { window: '1m', once: false }],
  ['top', ['--window', '1h', '--once'], { window: '1h', once: true }],
  ['health', ['hello'], { app: 'hello', limit: 10 }],
  ['health', ['hello', '--limit', '100'], { app: 'hello', limit: 100 }],
  ['logs', ['hello'], { app: 'hello', follow: false }],
  ['logs', ['hello', '-f', '--since', '10m', '--tail', '20', '--process', 'worker'], { app: 'hello', follow: true, since: '10m', tail: 20, process: 'worker' }],
  ['logs', ['hello', '--follow', '--since', '2024-05-01T12:00:00Z', '--tail', '0'], { app: 'hello', follow: true, since: '2024-05-01T12:00:00Z', tail: 0 }],
  ['rollback', ['hello'], { app: 'hello' }],
  ['promote', ['hello'], { app: 'hello' }],
  ['abort', ['hello'], { app: 'hello' }],
  ['rollback', ['hello', 'v3'], { app: 'hello', release: 'v3' }],
  ['rollback', ['hello', '3'], { app: 'hello', release: 'v3' }],
  ['rollback', ['hello', 'rel_01jd3k9x2m4q7r8s'], { app: 'hello', release: 'rel_01jd3k9x2m4q7r8s' }],
  ['env', ['list', 'hello'], { sub: 'list', app: 'hello', reveal: false }],
  ['env', ['list', 'hello', '--reveal'], { sub: 'list', app: 'hello', reveal: true }],
  ['env', ['set', 'hello', 'A=b=c', 'EMPTY='], { sub: 'set', app: 'hello', set: { A: 'b=c', EMPTY: '' } }],
  ['env', ['set', 'hello', 'TOKEN=-'], { sub: 'set', app: 'hello', set: { TOKEN: '-' }, stdinKey: 'TOKEN' }],
  ['env', ['set', 'hello', 'FLAGS=--verbose'], { sub: 'set', app: 'hello', set: { FLAGS: '--verbose' } }],
  ['env', ['unset', 'hello', 'A', 'B', 'A'], { sub: 'unset', app: 'hello', names: ['A', 'B'] }],
  ['destroy', ['hello'], { app: 'hello', yes: false }],
  ['destroy', ['hello', '-y'], { app: 'hello', yes: true }],
  ['server', [], { flags: {} }],
  [
    'server',
    ['--data', '/srv/berth', '--api', ':7000', '--http', '0.0.0.0:80', '--base-domain', 'apps.example.com', '--max-upload', '50mb', '--log-level', 'debug'],
    { flags: { data: '/srv/berth', api: ':7000', http: '0.0.0.0:80', baseDomain: 'apps.example.com', maxUpload: '50mb', logLevel: 'debug' } },
  ],
  [
    'server',
    ['--https', '0.0.0.0:443', '--acme-directory', 'staging', '--acme-email', 'ops@example.com', '--acme-ca', 'ca.pem', '--acme-resolver', '127.0.0.1:53', '--acme-challenge-port', '80'],
    { flags: { https: '0.0.0.0:443', acmeDirectory: 'staging', acmeEmail: 'ops@example.com', acmeCa: 'ca.pem', acmeResolver: '127.0.0.1:53', acmeChallengePort: '80' } },
  ],
  ['up', [], {}],
  ['up', ['--data', 'tmp/data', '--api', '127.0.0.1:0', '--http', ':8081'], { data: 'tmp/data', api: '127.0.0.1:0', http: ':8081' }],
  ['up', ['--https', 'off'], { https: 'off' }],
  ['down', [], { keepApps: false }],
  ['down', ['--keep-apps', '--data', 'd'], { keepApps: true, data: 'd' }],
  ['version', [], {}],
  ['login', ['https://berth.example.com'], { url: 'https://berth.example.com' }],
  ['logout', [], {}],
  ['scale', ['hello', 'web=3', 'worker=0'], { app: 'hello', processes: { web: 3, worker: 0 }, reset: false }],
  ['scale', ['hello', '--reset'], { app: 'hello', processes: {}, reset: true }],
  ['chaos', ['hello'], { app: 'hello', action: 'show' }],
  ['chaos', ['hello', 'off'], { app: 'hello', action: 'off' }],
  ['chaos', ['hello', 'slow', '--latency', '2s'], { app: 'hello', action: 'set', body: { mode: 'slow', latencyMs: 2000, forMs: 600_000 } }],
  ['chaos', ['hello', 'error', '--status', '503', '--ratio', '0.3', '--release', 'v3', '--for', '1h'], { app: 'hello', action: 'set', body: { mode: 'error', status: 503, ratio: 0.3, forMs: 3_600_000, release: 'v3' } }],
  ['run', ['hello', '--', 'node', 'scripts/seed.js'], { app: 'hello', command: 'node scripts/seed.js' }],
  ['run', ['hello', '--timeout', '60', '--', 'sh', '-c', 'echo "a b"'], { app: 'hello', command: "sh -c 'echo \"a b\"'", timeoutSeconds: 60 }],
  ['run', ['hello', 'rake db:migrate'], { app: 'hello', command: 'rake db:migrate' }],
  ['doctor', [], {}],
  ['certs', [], { sub: 'list' }],
  ['certs', ['list'], { sub: 'list' }],
  ['certs', ['add', '*.example.com', '--cert', 'fullchain.pem', '--key', '-'], { sub: 'add', domain: '*.example.com', cert: 'fullchain.pem', key: '-' }],
  ['certs', ['remove', 'shop.example.com'], { sub: 'remove', domain: 'shop.example.com' }],
  ['certs', ['renew', 'shop.example.com'], { sub: 'renew', domain: 'shop.example.com' }],
  ['events', [], { follow: false }],
  ['events', ['hello', '-f', '--since', '7d', '--type', 'deploy,cert'], { app: 'hello', follow: true, since: '7d', type: 'deploy,cert' }],
  ['audit', [], {}],
  ['audit', ['hello', '--since', '30d', '--out', 'report.md'], { app: 'hello', since: '30d', out: 'report.md' }],
  ['notify', ['list'], { sub: 'list' }],
  ['notify', ['add', 'ops', '--slack', 'https://hooks.slack.com/x'], { sub: 'add', name: 'ops', kind: 'slack', url: 'https://hooks.slack.com/x', secretStdin: false }],
  ['notify', ['add', 'ci', '--webhook', 'https://ci.example.com/h', '--events', 'deploy.failed,instance.crashloop'], { sub: 'add', name: 'ci', kind: 'webhook', url: 'https://ci.example.com/h', events: ['deploy.failed', 'instance.crashloop'], secretStdin: false }],
  ['notify', ['remove', 'ops'], { sub: 'remove', name: 'ops' }],
  ['notify', ['log', 'ops', '--limit', '20'], { sub: 'log', name: 'ops', limit: 20 }],
];

for (const [name, argv, expected] of good) {
  test(`berth ${name} ${argv.join(' ')}`.trimEnd(), async () => {
    assert.deepEqual(await parse(name, argv), expected);
  });
}

const bad: [string, string[], RegExp][] = [
  ['init', ['a', 'b'], /unexpected argument "b"/],
  ['registry', [], /missing the subcommand: login, list or logout/],
  ['policy', [], /missing the subcommand: list or check/],
  ['policy', ['chekc', 'shop'], /unknown policy subcommand "chekc"/],
  ['policy', ['check'], /missing <app>/],
  ['registry', ['login', 'ghcr.io', 'hunter2'], /takes one argument, the registry host/],
  ['init', ['--name'], /--name needs a value/],
  ['init', ['--froce'], /unknown flag --froce/],
  ['deploy', ['--ap', 'x'], /unknown flag --ap/],
  ['deploy', ['--wait=yes'], /--wait does not take a value/],
  ['deploy', ['a', 'b'], /unexpected argument "b"/],
  ['deploy', ['--strategy', 'canery'], /unknown strategy "canery"/],
  ['apps', ['extra'], /unexpected argument "extra"/],
  ['create', [], /missing <app>/],
  ['status', [], /missing <app>/],
  ['status', ['a', 'b'], /unexpected argument/],
  ['releases', [], /missing <app>/],
  ['top', ['--window', '10m'], /--window must be 1m, 5m or 1h, not "10m"/],
  ['top', ['shop'], /unexpected argument "shop"/],
  ['health', [], /missing <app>/],
  ['health', ['hello', '--limit', '101'], /--limit must be at most 100/],
  ['health', ['hello', '--limit', '0'], /--limit must be a whole number of at least 1/],
  ['logs', [], /missing <app>/],
  ['logs', ['hello', '--tail', 'ten'], /--tail must be a whole number/],
  ['logs', ['hello', '--tail', '-1'], /--tail/],
  ['logs', ['hello', '--since', 'yesterday'], /--since "yesterday" is neither a duration nor an ISO time/],
  ['logs', ['hello', '-x'], /unknown flag -x/],
  ['rollback', [], /missing <app>/],
  ['promote', [], /missing <app>/],
  ['abort', ['hello', 'extra'], /unexpected|too many|extra/i],
  ['rollback', ['hello', 'v0'], /"v0" is not a release/],
  ['rollback', ['hello', 'latest'], /"latest" is not a release/],
  ['rollback', ['hello', 'v1', 'v2'], /unexpected argument "v2"/],
  ['env', [], /missing the subcommand/],
  ['env', ['lsit', 'hello'], /unknown env subcommand "lsit"/],
  ['env', ['list'], /missing <app>/],
  ['env', ['set', 'hello'], /missing <KEY=VALUE>/],
  ['env', ['set', 'hello', 'NOVALUE'], /"NOVALUE" is not KEY=VALUE/],
  ['env', ['set', 'hello', '=x'], /^an argument has no name before its "="$/],
  ['env', ['set', 'hello', 'A=1', 'A=2'], /A is given twice/],
  ['env', ['set', 'hello', 'A=-', 'B=-'], /only one value can come from stdin/],
  ['env', ['set', 'hello', 'A=1', '--reveal'], /unknown flag --reveal/],
  ['env', ['unset', 'hello'], /missing <KEY>/],
  ['destroy', [], /missing <app>/],
  ['destroy', ['hello', '--yse'], /unknown flag --yse/],
  ['server', ['--port', '80'], /unknown flag --port/],
  ['server', ['extra'], /unexpected argument/],
  ['up', ['--data'], /--data needs a value/],
  ['down', ['--keep'], /unknown flag --keep/],
  ['version', ['x'], /unexpected argument/],
  ['login', [], /missing <url>/],
  ['logout', ['x'], /unexpected argument/],
  ['scale', ['hello'], /say which process to scale/],
  ['chaos', ['hello', 'flaky'], /"flaky" is not a chaos mode/],
  ['chaos', ['hello', 'slow'], /slow needs --latency/],
  ['chaos', ['hello', 'slow', '--latency', '61s'], /--latency 61s is out of range/],
  ['chaos', ['hello', 'slow', '--latency', 'soon'], /--latency "soon" is not a duration/],
  ['chaos', ['hello', 'error', '--status', '404', '--ratio', '0.5'], /--status 404 is not 429 or 500..599/],
  ['chaos', ['hello', 'error', '--status', '503', '--ratio', '0'], /--ratio 0 is out of range/],
  ['chaos', ['hello', 'error', '--status', '503', '--ratio', '1.5'], /--ratio 1.5 is out of range/],
  ['chaos', ['hello', 'error', '--status', '503'], /error needs --status and --ratio/],
  ['chaos', ['hello', 'slow', '--latency', '1s', '--for', '25h'], /--for 25h is out of range/],
  ['chaos', ['hello', 'slow', '--latency', '1s', '--status', '503'], /--status does not go with slow/],
  ['chaos', ['hello', 'off', '--for', '1m'], /--for does not go with off/],
  ['chaos', ['hello', 'slow', '--latency', '1s', '--release', 'latest'], /--release "latest" is not a release/],
  ['scale', ['hello', 'web'], /"web" is not <process>=<replicas>/],
  ['scale', ['hello', 'web=3', '--reset'], /--reset takes no process counts/],
  ['run', ['hello'], /missing <command>/],
  ['run', ['hello', '--timeout', 'soon', '--', 'true'], /"soon" is not a number of seconds/],
  ['doctor', ['x'], /unexpected argument/],
  ['certs', ['ad', 'shop.example.com'], /unknown certs subcommand "ad"/],
  ['certs', ['add', '--cert', 'a.pem', '--key', 'b.pem'], /missing <domain>/],
  ['certs', ['add', 'shop.example.com', '--key', 'b.pem'], /add needs --cert FILE/],
  ['certs', ['add', 'shop.example.com', '--cert', 'a.pem'], /add needs --key FILE/],
  ['certs', ['add', 'shop.example.com', '--cert', '-', '--key', '-'], /only one of --cert and --key can come from stdin/],
  ['certs', ['remove'], /missing <domain>/],
  ['certs', ['renew', 'a.example.com', 'b.example.com'], /unexpected argument "b.example.com"/],
  ['certs', ['list', '--cert', 'a.pem'], /unknown flag --cert/],
  ['events', ['a', 'b'], /unexpected argument "b"/],
  ['events', ['--limit', 'x'], /--limit must be a whole number/],
  ['audit', ['a', 'b'], /unexpected argument "b"/],
  ['notify', [], /missing the subcommand/],
  ['notify', ['add', 'ops'], /--slack URL or --webhook URL/],
  ['notify', ['add', 'ops', '--slack', 'https://a', '--webhook', 'https://b'], /not both/],
  ['notify', ['frob'], /unknown notify subcommand "frob"/],
  ['notify', ['add', 'ops', '--slack', 'https://a', '--secret', 'abcdefghijklmnopqrstu'], /--secret is for --webhook only/],
];

for (const [name, argv, message] of bad) {
  test(`berth ${name} ${argv.join(' ')} is a usage error`.replace('  ', ' '), async () => {
    await rejects(name, argv, message);
  });
}

test('every command has a case of each kind above', () => {
  for (const name of COMMAND_NAMES) {
    assert.ok(good.some(([command]) => command === name), `no good case for ${name}`);
    assert.ok(bad.some(([command]) => command === name), `no bad case for ${name}`);
  }
});

test('global flags are accepted by every command, before or after its arguments', async () => {
  for (const name of COMMAND_NAMES) {
    const module = await load(name);
    const special: Record<string, string[]> = { env: ['list', 'hello'], scale: ['hello', 'web=2'], run: ['hello', 'true'], registry: ['list'], notify: ['list'], policy: ['list'] };
    const argv = special[name] ?? (module.spec.args.some((arg) => arg.startsWith('<')) ? ['https://x.example'] : []);
    const parsed = module.parse(['--json', '--url', 'http://10.0.0.1:7171', ...argv, '--token', 't0k']);
    assert.deepEqual(parsed.globals, { json: true, url: 'http://10.0.0.1:7171', token: 't0k', help: false, version: false }, name);
  }
});

test('--help skips the argument checks, so `berth status --help` works without an app', async () => {
  const module = await load('status');
  assert.equal(module.parse(['--help']).globals.help, true);
});

test('a bad env name is ENV_NAME_INVALID, one berth sets ENV_NAME_RESERVED (exit 1), not a usage error', async () => {
  const module = await load('env');
  const cases: [string[], string][] = [
    [['set', 'hello', '1A=b'], 'ENV_NAME_INVALID'],
    [['set', 'hello', 'A-B=c'], 'ENV_NAME_INVALID'],
    [['unset', 'hello', 'A B'], 'ENV_NAME_INVALID'],
    [['set', 'hello', `${'A'.repeat(257)}=x`], 'ENV_NAME_INVALID'],
    [['set', 'hello', 'PORT=1'], 'ENV_NAME_RESERVED'],
    [['set', 'hello', 'BERTH_APP=x'], 'ENV_NAME_RESERVED'],
    [['unset', 'hello', 'PORT'], 'ENV_NAME_RESERVED'],
  ];
  for (const [argv, code] of cases) {
    assert.throws(
      () => module.parse(argv),
      (error) => isBerthError(error) && error.code === code && exitCodeFor(error) === 1,
      argv.join(' '),
    );
  }
});
