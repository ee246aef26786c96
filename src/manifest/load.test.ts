import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { loadManifest, parseManifest, resolveAppName, type Manifest } from './load.ts';

const DEFAULTS: Manifest = {
  name: undefined,
  build: undefined,
  processes: { web: { command: undefined, replicas: 1 } },
  health: { path: '/', intervalMs: 1000, timeoutMs: 2000, healthyAfter: 2, deadlineMs: 60_000 },
  deploy: { strategy: 'blue-green', drainTimeoutMs: 30_000, stopTimeoutMs: 10_000, standbyMs: 300_000, keepReleases: 5 },
  restart: { maxRestarts: 5, windowMs: 60_000, backoffMs: 1000, maxBackoffMs: 30_000 },
  domains: [],
  env: {},
};

const FULL = `
name: hello
build: npm run build
processes:
  web:
    command: node server.js
    replicas: 1
  worker: node worker.js
health:
  path: /health
  interval: 1s
  timeout: 2s
  healthy_after: 2
  deadline: 60s
deploy:
  strategy: blue-green
  drain_timeout: 30s
  stop_timeout: 10s
  standby: 5m
  keep_releases: 5
restart:
  max_restarts: 5
  window: 60s
  backoff: 1s
  max_backoff: 30s
domains:
  - example.com
  - "*.example.org"
env:
  NODE_ENV: production
`;

function assertDeepFrozen(value: unknown, at = 'manifest'): void {
  if (typeof value !== 'object' || value === null) return;
  assert.ok(Object.isFrozen(value), `${at} is not frozen`);
  for (const [key, child] of Object.entries(value)) assertDeepFrozen(child, `${at}.${key}`);
}

const valid: { name: string; text: string; expected: Manifest }[] = [
  { name: 'an empty file is every default', text: '', expected: DEFAULTS },
  { name: 'a file of comments is every default', text: '# nothing yet\n\n# really\n', expected: DEFAULTS },
  { name: 'sections with every line commented out are defaults', text: 'health:\n#  path: /\ndeploy:\nrestart:\n', expected: DEFAULTS },
  {
    name: 'the full file',
    text: FULL,
    expected: {
      ...DEFAULTS,
      name: 'hello',
      build: 'npm run build',
      processes: { web: { command: 'node server.js', replicas: 1 }, worker: { command: 'node worker.js', replicas: 1 } },
      health: { ...DEFAULTS.health, path: '/health' },
      domains: ['example.com', '*.example.org'],
      env: { NODE_ENV: 'production' },
    },
  },
  {
    name: 'string shorthand for processes',
    text: 'processes:\n  web: node server.js\n  worker: node worker.js --queue=mail\n',
    expected: { ...DEFAULTS, processes: { web: { command: 'node server.js', replicas: 1 }, worker: { command: 'node worker.js --queue=mail', replicas: 1 } } },
  },
  {
    name: '`web:` with nothing after it is web with the defaults',
    text: 'processes:\n  web:\n  clock:\n    command: node clock.js\n    replicas: 2\n',
    expected: { ...DEFAULTS, processes: { web: { command: undefined, replicas: 1 }, clock: { command: 'node clock.js', replicas: 2 } } },
  },
  {
    name: 'processes without web is a worker-only app',
    text: 'processes:\n  worker: node worker.js\n',
    expected: { ...DEFAULTS, processes: { worker: { command: 'node worker.js', replicas: 1 } } },
  },
  {
    name: 'durations in every unit, and numbers and booleans in env kept as written',
    text: 'health:\n  interval: 500ms\n  deadline: 1.5m\ndeploy:\n  standby: 2h\n  drain_timeout: 0s\nenv:\n  PYTHON_VERSION: 3.10\n  WORKERS: 4\n  DEBUG: true\n  HEX: 0x1F\n  EMPTY: ""\n',
    expected: {
      ...DEFAULTS,
      health: { ...DEFAULTS.health, intervalMs: 500, deadlineMs: 90_000 },
      deploy: { ...DEFAULTS.deploy, standbyMs: 7_200_000, drainTimeoutMs: 0 },
      env: { PYTHON_VERSION: '3.10', WORKERS: '4', DEBUG: 'true', HEX: '0x1F', EMPTY: '' },
    },
  },
  {
    name: 'a byte order mark and CRLF line endings',
    text: '\uFEFFname: hello\r\nprocesses:\r\n  web: npm start\r\n',
    expected: { ...DEFAULTS, name: 'hello', processes: { web: { command: 'npm start', replicas: 1 } } },
  },
];

for (const { name, text, expected } of valid) {
  test(`valid: ${name}`, () => {
    const manifest = parseManifest(text);
    assert.deepEqual(manifest, expected);
    assertDeepFrozen(manifest);
  });
}

function issuesOf(text: string): Issue[] {
  try {
    parseManifest(text, { file: 'app/berth.yaml' });
  } catch (error) {
    assert.ok(isBerthError(error), `not a BerthError: ${error}`);
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.match(error.message, /^app\/berth\.yaml is not valid:\n/);
    const issues = error.details?.issues as Issue[];
    for (const issue of issues) assert.ok(error.message.includes(issue.message), 'every issue is in the message');
    return issues;
  }
  assert.fail(`parsed without issues:\n${text}`);
}

interface Bad {
  name: string;
  text: string;
  path: string;
  message: RegExp;
  fix: RegExp;
}

const invalid: Bad[] = [
  {
    name: 'not YAML: an unclosed bracket',
    text: 'name: hello\nprocesses:\n  web: [node\n',
    path: '',
    message: /^line 4, column 1: .*end with a \]/,
    fix: /close every `\[` with `\]`/,
  },
  { name: 'not YAML: tab indentation', text: 'health:\n\tpath: /\n', path: '', message: /^line 2, column 1: Tabs are not allowed/, fix: /indent with spaces/ },
  { name: 'not YAML: an unquoted colon in a value', text: 'build: echo a: b\n', path: '', message: /^line 1, column 8: this value contains `: `/, fix: /quote values that contain `: `/ },
  { name: 'top level is a list', text: '- web\n- worker\n', path: '', message: /expected keys at the top level, such as `name:`; found a list of 2 items/, fix: /`name: hello`/ },
  { name: 'top level is a string', text: 'hello\n', path: '', message: /found the string "hello"/, fix: /one key per line, such as `name: hello`/ },
  { name: 'unknown top-level key', text: 'helth:\n  path: /health\n', path: 'helth', message: /^line 1: unknown top-level key `helth`; did you mean `health`\?/, fix: /^rename `helth` to `health`$/ },
  { name: 'unknown key from another tool', text: 'environment:\n  A: b\n', path: 'environment', message: /did you mean `env`\?/, fix: /rename `environment` to `env`/ },
  { name: 'unknown nested key', text: 'health:\n  intervall: 5s\n', path: 'health.intervall', message: /^line 2: unknown key `intervall`; did you mean `interval`\?/, fix: /rename `intervall` to `interval`/ },
  {
    name: 'unknown nested key with nothing close',
    text: 'deploy:\n  zzz: 1\n',
    path: 'deploy.zzz',
    message: /the keys allowed here are `strategy`, `drain_timeout`, `stop_timeout`, `standby`, `keep_releases`/,
    fix: /remove `zzz`/,
  },
  { name: 'a key in the wrong section', text: 'replicas: 3\n', path: 'replicas', message: /`replicas` belongs at `processes.<name>.replicas`/, fix: /move it to `processes.<name>.replicas`/ },
  { name: 'duplicate key', text: 'health:\n  interval: 1s\n  interval: 2s\n', path: 'health.interval', message: /^line 3, column 3: duplicate key `interval` \(first at line 2\)/, fix: /keep one `interval:`/ },
  { name: 'wrong type: replicas "two"', text: 'processes:\n  web:\n    replicas: "two"\n', path: 'processes.web.replicas', message: /^line 3: expected a whole number from 1 to 20, found the string "two"$/, fix: /`replicas: 2`/ },
  { name: 'wrong type: a quoted number', text: 'processes:\n  web:\n    replicas: "3"\n', path: 'processes.web.replicas', message: /found the quoted text "3"/, fix: /^remove the quotes: `replicas: 3`$/ },
  { name: 'out of range: replicas 0', text: 'processes:\n  web:\n    replicas: 0\n', path: 'processes.web.replicas', message: /from 1 to 20, found 0$/, fix: /`replicas: 1`/ },
  { name: 'out of range: replicas 50', text: 'processes:\n  web:\n    replicas: 50\n', path: 'processes.web.replicas', message: /from 1 to 20, found 50$/, fix: /`replicas: 20`/ },
  { name: 'bad duration: 5 sec', text: 'health:\n  interval: 5 sec\n', path: 'health.interval', message: /expected a duration such as `500ms`, `5s`, `1m` or `2h`, found the string "5 sec"/, fix: /`interval: 5s`/ },
  { name: 'bad duration: a bare number', text: 'health:\n  interval: 5\n', path: 'health.interval', message: /found the number 5 with no unit/, fix: /^add a unit: `interval: 5s`$/ },
  { name: 'duration out of range', text: 'health:\n  deadline: 2h\n', path: 'health.deadline', message: /expected a duration from 1s to 30m, found 2h/, fix: /`deadline: 30m`/ },
  { name: 'duration below range', text: 'health:\n  interval: 10ms\n', path: 'health.interval', message: /from 100ms to 60s, found 10ms/, fix: /`interval: 100ms`/ },
  { name: 'bad name: Hello_World', text: 'name: Hello_World\n', path: 'name', message: /"Hello_World" is not a valid app name: expected lowercase letters, digits and dashes/, fix: /`name: hello-world`/ },
  { name: 'bad name: -x', text: 'name: -x\n', path: 'name', message: /"-x" is not a valid app name.*starting with a letter/, fix: /`name: x`/ },
  { name: 'bad name: trailing dash', text: 'name: app-\n', path: 'name', message: /not ending with a dash/, fix: /`name: app`/ },
  { name: 'bad name: 41 characters', text: `name: ${'a'.repeat(41)}\n`, path: 'name', message: /is 41 characters long; at most 40 allowed/, fix: new RegExp(`\`name: ${'a'.repeat(40)}\``) },
  { name: 'health.path not starting with /', text: 'health:\n  path: health\n', path: 'health.path', message: /"health" is not a valid path: expected a path that starts with `\/`/, fix: /`path: \/health`/ },
  { name: 'invalid hostname', text: 'domains:\n  - example.com\n  - Example.COM\n', path: 'domains[1]', message: /^line 3: "Example.COM" is not a valid hostname: expected a lowercase DNS name/, fix: /`- example.com`/ },
  { name: 'a URL instead of a hostname', text: 'domains:\n  - https://shop.example.com/\n', path: 'domains[0]', message: /not a valid hostname/, fix: /`- shop.example.com`/ },
  { name: 'duplicate hostname', text: 'domains:\n  - example.com\n  - www.example.com\n  - example.com\n', path: 'domains[2]', message: /`example.com` is listed twice \(also at domains\[0\]\)/, fix: /remove this entry/ },
  { name: 'one hostname where a list goes', text: 'domains: example.com\n', path: 'domains', message: /expected a list/, fix: /`domains: \[ example.com \]`/ },
  { name: 'env name starting with a digit', text: 'env:\n  1ABC: x\n', path: 'env.1ABC', message: /`1ABC` is not a valid variable name: expected letters, digits and `_`, not starting with a digit/, fix: /rename it to `_1ABC`/ },
  { name: 'env name with a dash', text: 'env:\n  MY-VAR: x\n', path: 'env.MY-VAR', message: /`MY-VAR` is not a valid variable name/, fix: /rename it to `MY_VAR`/ },
  { name: 'env value a nested mapping', text: 'env:\n  DB:\n    host: x\n', path: 'env.DB', message: /expected a value \(text, a number or true\/false\), found a mapping with key host/, fix: /quote it as one line of text: `DB: '\{"host":"x"\}'`/ },
  { name: 'env value a list', text: 'env:\n  HOSTS: [a, b]\n', path: 'env.HOSTS', message: /found a list of 2 items/, fix: /quote it as one line of text/ },
  { name: 'env value missing', text: 'env:\n  TOKEN:\n', path: 'env.TOKEN', message: /has no value/, fix: /`TOKEN: ""` for an empty value/ },
  { name: 'reserved env PORT', text: 'env:\n  PORT: 8080\n', path: 'env.PORT', message: /"PORT" is set by berth and cannot be changed/, fix: /`APP_PORT`/ },
  { name: 'reserved env BERTH_*', text: 'env:\n  BERTH_APP: x\n', path: 'env.BERTH_APP', message: /"BERTH_APP" is set by berth/, fix: /PORT and BERTH_\*/ },
  { name: 'unknown strategy', text: 'deploy:\n  strategy: canary\n', path: 'deploy.strategy', message: /expected one of `blue-green`, found the string "canary" \(`canary` is planned but not available yet\)/, fix: /`strategy: blue-green`/ },
  { name: 'misspelt strategy', text: 'deploy:\n  strategy: blue_green\n', path: 'deploy.strategy', message: /expected one of `blue-green`/, fix: /`strategy: blue-green`/ },
  { name: 'empty process command (shorthand)', text: 'processes:\n  web: ""\n', path: 'processes.web', message: /expected a command, found an empty string/, fix: /`web: node server.js`/ },
  { name: 'blank process command', text: 'processes:\n  worker:\n    command: "   "\n', path: 'processes.worker.command', message: /expected a command, found only whitespace/, fix: /`command: node worker.js`/ },
  { name: 'non-web process without command', text: 'processes:\n  worker:\n    replicas: 2\n', path: 'processes.worker.command', message: /^line 2: is required: only `web` can fall back to the package.json "start" script/, fix: /`command: node worker.js`/ },
  { name: 'non-web process with nothing', text: 'processes:\n  worker:\n', path: 'processes.worker', message: /has no value: a process other than `web` needs a command/, fix: /`worker: node worker.js`/ },
  { name: 'misspelt web', text: 'processes:\n  wbe:\n    replicas: 2\n', path: 'processes.wbe.command', message: /is `wbe` a misspelling of `web`\?/, fix: /`command: node worker.js`/ },
  { name: 'invalid process name', text: 'processes:\n  Web: node server.js\n', path: 'processes.Web', message: /`Web` is not a valid process name/, fix: /rename it to `web`/ },
  { name: 'no processes at all', text: 'processes: {}\n', path: 'processes', message: /has no entries; at least 1 needed/, fix: /`processes: \{ web:/ },
  { name: 'health.timeout longer than deadline', text: 'health:\n  timeout: 10s\n  deadline: 5s\n', path: 'health.timeout', message: /is 10s, longer than `deadline` \(5s\)/, fix: /`timeout: 5s` or less, or raise `deadline`/ },
  { name: 'restart.backoff longer than max_backoff', text: 'restart:\n  backoff: 1m\n', path: 'restart.backoff', message: /is 1m, longer than `max_backoff` \(30s\)/, fix: /`backoff: 30s` or less/ },
  { name: 'domains without a web process', text: 'processes:\n  worker: node w.js\ndomains: [example.com]\n', path: 'domains', message: /no `web` process to route them to/, fix: /add `web` under `processes`, or remove `domains`/ },
  { name: 'an alias without its anchor', text: 'name: *app\n', path: 'name', message: /^line 1, column 7: the alias `\*app` has no anchor/, fix: /define an anchor/ },
  { name: 'two YAML documents', text: 'name: a\n---\nname: b\n', path: '', message: /^line 2, column 1: the file holds more than one YAML document/, fix: /remove the `---` line/ },
  {
    name: 'an alias bomb',
    text: 'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    path: '',
    message: /expands to more than 10000 values/,
    fix: /write the values out/,
  },
];

for (const bad of invalid) {
  test(`invalid: ${bad.name}`, () => {
    const issues = issuesOf(bad.text);
    const found = issues.find((i) => i.path === bad.path);
    assert.ok(found, `no issue at "${bad.path}" in ${JSON.stringify(issues, null, 2)}`);
    assert.match(found.message, bad.message);
    assert.match(found.fix ?? '', bad.fix);
    // Helpful means: the message says where (a line) unless it is about the whole file, and the fix is concrete.
    if (bad.path !== '' || /^line /.test(found.message)) assert.match(found.message, /^line \d+/);
    assert.ok((found.fix ?? '').length > 10);
  });
}

test('invalid: several problems at once are all reported, in file order', () => {
  const issues = issuesOf(`name: Hello
helth: {}
processes:
  web:
    replicas: 0
  worker: {}
health:
  interval: 5
deploy:
  strategy: canary
env:
  PORT: "1"
`);
  assert.deepEqual(
    issues.map((i) => i.path),
    ['name', 'helth', 'processes.web.replicas', 'processes.worker.command', 'health.interval', 'deploy.strategy', 'env.PORT'],
  );
  assert.deepEqual(
    issues.map((i) => Number(/^line (\d+)/.exec(i.message)?.[1])),
    [1, 2, 5, 6, 8, 10, 12],
  );
});

test('invalid: a duplicate key is reported along with the other problems', () => {
  const issues = issuesOf('name: a\nname: b\nhealth:\n  interval: 5\n');
  assert.deepEqual(issues.map((i) => i.path), ['name', 'health.interval']);
});

test('the error message lists every issue with its path and fix', () => {
  assert.throws(
    () => parseManifest('name: Hello_World\nhelth: {}\n'),
    (error: Error) => {
      assert.equal(
        error.message,
        'berth.yaml is not valid:\n' +
          '  - name: line 1: "Hello_World" is not a valid app name: expected lowercase letters, digits and dashes, starting with a letter and not ending with a dash (fix: write `name: hello-world`)\n' +
          '  - helth: line 2: unknown top-level key `helth`; did you mean `health`? (fix: rename `helth` to `health`)',
      );
      return true;
    },
  );
});

test('loadManifest reads berth.yaml or berth.yml, and a missing file is all defaults', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const missing = await loadManifest(dir);
  assert.deepEqual(missing, { manifest: DEFAULTS, found: false, file: join(dir, 'berth.yaml') });

  await writeFile(join(dir, 'berth.yml'), 'name: from-yml\n');
  const yml = await loadManifest(dir);
  assert.equal(yml.manifest.name, 'from-yml');
  assert.equal(yml.found, true);
  assert.equal(yml.file, join(dir, 'berth.yml'));

  await writeFile(join(dir, 'berth.yaml'), 'name: from-yaml\n');
  await assert.rejects(loadManifest(dir), (error: Error) => isBerthError(error) && error.code === 'MANIFEST_INVALID' && /both berth.yaml and berth.yml exist/.test(error.message));

  await rm(join(dir, 'berth.yml'));
  await writeFile(join(dir, 'berth.yaml'), 'processes:\n  web:\n    replicas: 0\n');
  await assert.rejects(loadManifest(dir), (error: Error) => error.message.startsWith(`${join(dir, 'berth.yaml')} is not valid:`));
});

const manifestNamed = (name?: string) => ({ ...DEFAULTS, name });

const names: { name: string; input: Parameters<typeof resolveAppName>[0]; expected: string }[] = [
  { name: 'the --app flag wins', input: { flag: 'cli-app', manifest: manifestNamed('manifest-app'), packageJsonName: 'pkg', dirName: 'dir' }, expected: 'cli-app' },
  { name: 'then the manifest name', input: { manifest: manifestNamed('manifest-app'), packageJsonName: 'pkg', dirName: 'dir' }, expected: 'manifest-app' },
  { name: 'then package.json, without its scope', input: { manifest: DEFAULTS, packageJsonName: '@acme/Shop.Front_End', dirName: 'dir' }, expected: 'shop-front-end' },
  { name: 'then the folder name, normalized', input: { manifest: DEFAULTS, dirName: '  My Cool App!! ' }, expected: 'my-cool-app' },
  { name: 'dashes are trimmed', input: { manifest: DEFAULTS, dirName: '--hello--' }, expected: 'hello' },
  { name: 'a long folder name is cut to 40 characters without a trailing dash', input: { manifest: DEFAULTS, dirName: `${'a'.repeat(39)}-bbbb` }, expected: 'a'.repeat(39) },
  { name: 'a package name that normalizes to nothing falls through', input: { manifest: DEFAULTS, packageJsonName: '@scope/___', dirName: 'site' }, expected: 'site' },
];

for (const { name, input, expected } of names) {
  test(`resolveAppName: ${name}`, () => assert.equal(resolveAppName(input), expected));
}

test('resolveAppName: a chosen name that is still invalid is APP_NAME_INVALID', () => {
  const invalidName = (input: Parameters<typeof resolveAppName>[0], name: string) =>
    assert.throws(() => resolveAppName(input), (error: Error) => isBerthError(error) && error.code === 'APP_NAME_INVALID' && error.message === `"${name}" is not a valid app name`);
  // The flag is taken as typed: berth does not rename what the user asked for.
  invalidName({ flag: 'My_App', manifest: DEFAULTS, dirName: 'ok' }, 'My_App');
  // A digit first cannot be fixed mechanically; the package name does not fall through to the folder.
  invalidName({ manifest: DEFAULTS, packageJsonName: '123-service', dirName: 'ok' }, '123-service');
  invalidName({ manifest: DEFAULTS, dirName: '2024' }, '2024');
  invalidName({ manifest: DEFAULTS, dirName: '!!!' }, '!!!');
});
