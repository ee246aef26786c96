import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { loadManifest, parseManifest, resolveAppName, type Manifest } from './load.ts';
import type { ProcessSpec, ServiceSpec } from './schema.ts';

const RESTART = { maxRestarts: 5, windowMs: 60_000, backoffMs: 1000, maxBackoffMs: 30_000 };

/** A resolved process with every default: `web` listens on 3000, others on no port. */
function proc(name: string, command: string | undefined, over: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    command,
    replicas: 1,
    port: name === 'web' ? 3000 : undefined,
    resources: { memoryBytes: undefined, cpus: undefined },
    restart: RESTART,
    dependsOn: [],
    health: undefined,
    readOnly: false,
    ...over,
  };
}

/** A resolved service with every default for an image berth does not know. */
function svc(image: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { image, command: undefined, port: undefined, env: {}, volumes: {}, health: undefined, urlEnv: undefined, url: undefined, update: undefined, ...over };
}

const DEFAULTS: Manifest = {
  name: undefined,
  build: undefined,
  dockerfile: undefined,
  static: undefined,
  image: undefined,
  update: undefined,
  release: undefined,
  checks: [],
  processes: { web: proc('web', undefined) },
  services: {},
  health: { path: '/', intervalMs: 1000, timeoutMs: 2000, healthyAfter: 2, deadlineMs: 60_000 },
  deploy: {
    strategy: 'blue-green',
    maxSurge: 1,
    maxUnavailable: 0,
    canary: { steps: [{ weight: 10, durationMs: 120_000 }, { weight: 50, durationMs: 300_000 }], intervalMs: 30_000, minRequests: 50, maxWaitMs: 600_000, sticky: 'cookie' },
    drainTimeoutMs: 30_000,
    stopTimeoutMs: 10_000,
    standbyMs: 300_000,
    keepReleases: 5,
  },
  restart: RESTART,
  domains: [],
  https: { redirect: true, hsts: undefined },
  env: {},
  policies: [],
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

const DOCKER_FULL = `
dockerfile: ./docker/Dockerfile
release:
  command: node migrate.js
  timeout: 10m
processes:
  web:
    command: node server.js
    replicas: 2
    port: 8080
    resources:
      memory: 512mb
      cpus: 1.5
    restart:
      max_restarts: 3
      backoff: 2s
    depends_on: [api, redis]
  api:
    command: node api.js
    port: 4000
    depends_on: [db]
    health:
      command: node check.js
      interval: 10s
  worker:
    command: node worker.js
    resources:
      memory: 1gb
    depends_on:
      - redis
      - db
    health:
      heartbeat: /tmp/heartbeat
      max_age: 1m
services:
  redis:
    image: redis:7-alpine
    command: redis-server --appendonly yes
    env:
      REDIS_ARGS: --maxmemory 256mb
      PORT: 6379
    volumes:
      data: /data
    health:
      command: redis-cli ping
      interval: 1s
  db:
    image: postgres:16
    port: 5433
    volumes:
      pgdata: /var/lib/postgresql/data
    health:
      command: pg_isready
      timeout: 3s
      retries: 10
      start_period: 30s
    url_env: PG_URL
    url: postgres://postgres@db:5433/app
`;

function assertDeepFrozen(value: unknown, at = 'manifest'): void {
  if (typeof value !== 'object' || value === null) return;
  assert.ok(Object.isFrozen(value), `${at} is not frozen`);
  for (const [key, child] of Object.entries(value)) assertDeepFrozen(child, `${at}.${key}`);
}

/**
 * The manifest with its records (null-prototype objects) as ordinary objects, to compare with literals;
 * assertRecordsWithoutPrototype checks the records themselves.
 */
function ordinary(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordinary);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, ordinary(child)]));
}

/** Processes, services, env and each service's env and volumes are keyed by the user's names. */
function assertRecordsWithoutPrototype(manifest: Manifest): void {
  const records: [string, object][] = [['processes', manifest.processes], ['services', manifest.services], ['env', manifest.env]];
  for (const [name, spec] of Object.entries(manifest.services)) records.push([`services.${name}.env`, spec.env], [`services.${name}.volumes`, spec.volumes]);
  for (const [at, record] of records) assert.equal(Object.getPrototypeOf(record), null, `${at} has a prototype`);
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
      processes: { web: proc('web', 'node server.js'), worker: proc('worker', 'node worker.js') },
      health: { ...DEFAULTS.health, path: '/health' },
      domains: ['example.com', '*.example.org'],
      env: { NODE_ENV: 'production' },
    },
  },
  {
    name: 'string shorthand for processes',
    text: 'processes:\n  web: node server.js\n  worker: node worker.js --queue=mail\n',
    expected: { ...DEFAULTS, processes: { web: proc('web', 'node server.js'), worker: proc('worker', 'node worker.js --queue=mail') } },
  },
  {
    name: '`web:` with nothing after it is web with the defaults',
    text: 'processes:\n  web:\n  clock:\n    command: node clock.js\n    replicas: 2\n',
    expected: { ...DEFAULTS, processes: { web: proc('web', undefined), clock: proc('clock', 'node clock.js', { replicas: 2 }) } },
  },
  {
    name: 'processes without web is a worker-only app',
    text: 'processes:\n  worker: node worker.js\n',
    expected: { ...DEFAULTS, processes: { worker: proc('worker', 'node worker.js') } },
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
    expected: { ...DEFAULTS, name: 'hello', processes: { web: proc('web', 'npm start') } },
  },
  {
    name: 'the Docker keys, every one set',
    text: DOCKER_FULL,
    expected: {
      ...DEFAULTS,
      dockerfile: 'docker/Dockerfile',
      release: { command: 'node migrate.js', timeoutMs: 600_000 },
      processes: {
        web: proc('web', 'node server.js', {
          replicas: 2,
          port: 8080,
          resources: { memoryBytes: 512 * 1024 ** 2, cpus: 1.5 },
          restart: { ...RESTART, maxRestarts: 3, backoffMs: 2000 },
          dependsOn: ['api', 'redis'],
        }),
        api: proc('api', 'node api.js', { port: 4000, dependsOn: ['db'], health: { heartbeat: undefined, command: 'node check.js', intervalMs: 10_000 } }),
        worker: proc('worker', 'node worker.js', {
          resources: { memoryBytes: 1024 ** 3, cpus: undefined },
          dependsOn: ['redis', 'db'],
          health: { heartbeat: { file: '/tmp/heartbeat', maxAgeMs: 60_000 }, command: undefined, intervalMs: 5000 },
        }),
      },
      services: {
        redis: svc('redis:7-alpine', {
          command: 'redis-server --appendonly yes',
          port: 6379,
          env: { REDIS_ARGS: '--maxmemory 256mb', PORT: '6379' },
          volumes: { data: '/data' },
          health: { command: 'redis-cli ping', intervalMs: 1000, timeoutMs: 5000, retries: 3, startPeriodMs: 30_000 },
          urlEnv: 'REDIS_URL',
        }),
        db: svc('postgres:16', {
          port: 5433,
          volumes: { pgdata: '/var/lib/postgresql/data' },
          health: { command: 'pg_isready', intervalMs: 2000, timeoutMs: 3000, retries: 10, startPeriodMs: 30_000 },
          urlEnv: 'PG_URL',
          url: 'postgres://postgres@db:5433/app',
        }),
      },
    },
  },
  {
    name: 'static without processes is one web process with no command',
    text: 'static: ./public/\n',
    expected: { ...DEFAULTS, static: 'public' },
  },
  {
    name: 'static with a web entry that has no command, and `static: .`',
    text: 'static: .\nprocesses:\n  web:\n    replicas: 2\n  worker: node worker.js\n',
    expected: { ...DEFAULTS, static: '.', processes: { web: proc('web', undefined, { replicas: 2 }), worker: proc('worker', 'node worker.js') } },
  },
  {
    name: 'release as a string, and paths normalized',
    text: 'release: npm run migrate\ndockerfile: ./ops//web.Dockerfile\nstatic: site/./dist/\n',
    expected: { ...DEFAULTS, release: { command: 'npm run migrate', timeoutMs: 300_000 }, dockerfile: 'ops/web.Dockerfile', static: 'site/dist' },
  },
  {
    name: 'a process restart block overrides the top-level one key by key',
    text: 'restart:\n  max_restarts: 8\n  max_backoff: 1m\nprocesses:\n  web:\n  worker:\n    command: node w.js\n    restart:\n      backoff: 45s\n      window: 10m\n',
    expected: {
      ...DEFAULTS,
      restart: { ...RESTART, maxRestarts: 8, maxBackoffMs: 60_000 },
      processes: {
        web: proc('web', undefined, { restart: { ...RESTART, maxRestarts: 8, maxBackoffMs: 60_000 } }),
        worker: proc('worker', 'node w.js', { restart: { maxRestarts: 8, windowMs: 600_000, backoffMs: 45_000, maxBackoffMs: 60_000 } }),
      },
    },
  },
  {
    name: 'sizes in every unit and case, counted in 1024s',
    text: 'processes:\n  web:\n    resources: { memory: 6mb }\n  a: { command: a, resources: { memory: 512MB, cpus: 0.01 } }\n  b: { command: b, resources: { memory: 1.5g } }\n  c: { command: c, resources: { memory: 65536k, cpus: 64 } }\n  d: { command: d, resources: { memory: 64GB } }\n  e: { command: e, resources: { memory: 7340032b } }\n',
    expected: {
      ...DEFAULTS,
      processes: {
        web: proc('web', undefined, { resources: { memoryBytes: 6 * 1024 ** 2, cpus: undefined } }),
        a: proc('a', 'a', { resources: { memoryBytes: 512 * 1024 ** 2, cpus: 0.01 } }),
        b: proc('b', 'b', { resources: { memoryBytes: 1.5 * 1024 ** 3, cpus: undefined } }),
        c: proc('c', 'c', { resources: { memoryBytes: 64 * 1024 ** 2, cpus: 64 } }),
        d: proc('d', 'd', { resources: { memoryBytes: 64 * 1024 ** 3, cpus: undefined } }),
        e: proc('e', 'e', { resources: { memoryBytes: 7 * 1024 ** 2, cpus: undefined } }),
      },
    },
  },
  {
    name: 'an image app: processes, release, health and env apply, and `update` as a duration',
    text: 'image: ghcr.io/acme/web:1.4\nupdate: 10m\nrelease: ./migrate\nprocesses:\n  web:\n    port: 80\n    replicas: 2\n  worker: ./worker --queue mail\nhealth:\n  path: /up\nenv:\n  MODE: prod\n',
    expected: {
      ...DEFAULTS,
      image: 'ghcr.io/acme/web:1.4',
      update: { intervalMs: 600_000, settleMs: 120_000 },
      release: { command: './migrate', timeoutMs: 300_000 },
      processes: { web: proc('web', undefined, { port: 80, replicas: 2 }), worker: proc('worker', './worker --queue mail') },
      health: { ...DEFAULTS.health, path: '/up' },
      env: { MODE: 'prod' },
    },
  },
  {
    name: 'an image alone runs web from the image\'s own command on 3000, without auto-update',
    text: 'image: 127.0.0.1:5055/shop/web\n',
    expected: { ...DEFAULTS, image: '127.0.0.1:5055/shop/web' },
  },
  {
    name: '`update` in full, at its bounds, and `update: {}` for the defaults of a service',
    text: `image: nginx@sha256:${'a'.repeat(64)}\nservices:\n  cache:\n    image: redis:7\n    update:\n      interval: 5s\n      settle: 0s\n  db:\n    image: postgres:16\n    update: {}\n  search:\n    image: localhost:5000/search:2\n    update:\n      interval: 24h\n      settle: 1h\n`,
    expected: {
      ...DEFAULTS,
      image: `nginx@sha256:${'a'.repeat(64)}`,
      services: {
        cache: svc('redis:7', { port: 6379, urlEnv: 'REDIS_URL', update: { intervalMs: 5000, settleMs: 0 } }),
        db: svc('postgres:16', { port: 5432, urlEnv: 'DATABASE_URL', update: { intervalMs: 300_000, settleMs: 120_000 } }),
        search: svc('localhost:5000/search:2', { update: { intervalMs: 86_400_000, settleMs: 3_600_000 } }),
      },
    },
  },
  {
    name: '`update:` with nothing after it is unset, as every section is',
    text: 'image: nginx:1.27\nupdate:\n',
    expected: { ...DEFAULTS, image: 'nginx:1.27' },
  },
  {
    name: 'sections of the new keys with every line commented out are unset',
    text: 'release:\nservices:\nprocesses:\n  web:\n    resources:\n    restart:\n  worker:\n    command: node w.js\n    health:\n',
    expected: { ...DEFAULTS, processes: { web: proc('web', undefined), worker: proc('worker', 'node w.js') } },
  },
];

for (const { name, text, expected } of valid) {
  test(`valid: ${name}`, () => {
    const manifest = parseManifest(text);
    assert.deepEqual(ordinary(manifest), expected);
    assertDeepFrozen(manifest);
    assertRecordsWithoutPrototype(manifest);
  });
}

/** Service defaults follow the image's own name, whatever its registry, path, tag or digest. */
const byImage: { image: string; port: number | undefined; urlEnv: string | undefined }[] = [
  { image: 'redis:7-alpine', port: 6379, urlEnv: 'REDIS_URL' },
  { image: 'postgres:16', port: 5432, urlEnv: 'DATABASE_URL' },
  { image: 'docker.io/library/mariadb:11', port: 3306, urlEnv: 'DATABASE_URL' },
  { image: 'postgis/postgis:16-3.4', port: 5432, urlEnv: 'DATABASE_URL' },
  { image: 'mysql', port: 3306, urlEnv: 'DATABASE_URL' },
  { image: `mongo@sha256:${'a'.repeat(64)}`, port: 27017, urlEnv: 'MONGO_URL' },
  { image: 'localhost:5000/cache/memcached:1.6', port: 11211, urlEnv: 'MEMCACHED_URL' },
  { image: 'ghcr.io/x/custom', port: undefined, urlEnv: undefined },
  { image: 'redis/redis-stack:latest', port: undefined, urlEnv: undefined },
];

for (const { image, port, urlEnv } of byImage) {
  test(`valid: service defaults for the image ${image}`, () => {
    const manifest = parseManifest(`services:\n  svc: "${image}"\n`);
    assert.deepEqual(ordinary(manifest.services.svc), svc(image, { port, urlEnv }));
    assertDeepFrozen(manifest);
  });
}

test('valid: an explicit port and url_env win over the image defaults', () => {
  const manifest = parseManifest('services:\n  cache:\n    image: redis:7\n    port: 6380\n    url_env: CACHE_URL\n');
  assert.deepEqual(ordinary(manifest.services.cache), svc('redis:7', { port: 6380, urlEnv: 'CACHE_URL' }));
});

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
    message: /the keys allowed here are `strategy`, `max_surge`, `max_unavailable`, `canary`, `drain_timeout`, `stop_timeout`, `standby`, `keep_releases`/,
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
  { name: 'unknown strategy', text: 'deploy:\n  strategy: recreate\n', path: 'deploy.strategy', message: /expected one of `blue-green`, `rolling` or `canary`, found the string "recreate"/, fix: /`strategy: / },
  { name: 'misspelt strategy', text: 'deploy:\n  strategy: blue_green\n', path: 'deploy.strategy', message: /expected one of `blue-green`/, fix: /`strategy: blue-green`/ },
  { name: 'canary weight out of range', text: 'deploy:\n  canary:\n    steps:\n      - weight: 100\n', path: 'deploy.canary.steps[0].weight', message: /100/, fix: /99/ },
  { name: 'canary weights not increasing', text: 'deploy:\n  canary:\n    steps:\n      - weight: 50\n      - weight: 20\n', path: 'deploy.canary.steps[1].weight', message: /not more than the step before \(50\)/, fix: /from 51 to 99/ },
  { name: 'rolling with no room', text: 'deploy:\n  max_surge: 0\n  max_unavailable: 0\n', path: 'deploy.max_surge', message: /both 0/, fix: /max_surge: 1/ },
  { name: 'check without a command', text: 'checks:\n  - name: lint\n', path: 'checks[0].run', message: /required|missing/, fix: /run/ },
  { name: 'unknown check moment', text: 'checks:\n  - name: lint\n    run: npm run lint\n    when: later\n', path: 'checks[0].when', message: /expected one of `build` or `switch`/, fix: /when: / },
  { name: 'duplicate check names', text: 'checks:\n  - name: lint\n    run: a\n  - name: lint\n    run: b\n', path: 'checks[1].name', message: /names an earlier check too/, fix: /lint-2/ },
  { name: 'empty process command (shorthand)', text: 'processes:\n  web: ""\n', path: 'processes.web', message: /expected a command, found an empty string/, fix: /`web: node server.js`/ },
  { name: 'blank process command', text: 'processes:\n  worker:\n    command: "   "\n', path: 'processes.worker.command', message: /expected a command, found only whitespace/, fix: /`command: node worker.js`/ },
  { name: 'non-web process without command', text: 'processes:\n  worker:\n    replicas: 2\n', path: 'processes.worker.command', message: /^line 2: is required: only `web` can fall back to a command of its own \(the image's, or the package.json "start" script\)/, fix: /`command: node worker.js`/ },
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
  // static, dockerfile and release
  { name: 'static: an absolute path', text: 'static: /public\n', path: 'static', message: /^line 1: "\/public" is not a valid folder: expected a path inside the app folder, relative to it: not starting with `\/`, without `\.\.`/, fix: /^write `static: public`$/ },
  { name: 'static: a path out of the app', text: 'static: ../site\n', path: 'static', message: /"\.\.\/site" is not a valid folder: .*without `\.\.`/, fix: /`static: public`/ },
  { name: 'static: a Windows path', text: 'static: dist\\site\n', path: 'static', message: /is not a valid folder/, fix: /^write `static: dist\/site`$/ },
  {
    name: 'static and a web command',
    text: 'static: public\nprocesses:\n  web: node server.js\n',
    path: 'static',
    message: /^line 1: serves the folder as the `web` process, but `processes.web.command` is set too/,
    fix: /^remove `static` to run the command, or remove `processes.web.command` to serve the folder$/,
  },
  { name: 'static with processes but no web', text: 'static: public\nprocesses:\n  worker: node w.js\n', path: 'static', message: /is served as the `web` process, but `processes` lists no `web`/, fix: /add `web:` with nothing after it under `processes`, or remove `static`/ },
  { name: 'dockerfile: an absolute path', text: 'dockerfile: /app/Dockerfile\n', path: 'dockerfile', message: /"\/app\/Dockerfile" is not a valid file path/, fix: /^write `dockerfile: app\/Dockerfile`$/ },
  { name: 'release without a command', text: 'release:\n  timeout: 10m\n', path: 'release.command', message: /^line 1: is required: it is what `release` runs$/, fix: /^write `command: node migrate.js`$/ },
  { name: 'release: an empty command', text: 'release: ""\n', path: 'release', message: /expected a command, found an empty string/, fix: /`release:/ },
  { name: 'release timeout above range', text: 'release:\n  command: node migrate.js\n  timeout: 3h\n', path: 'release.timeout', message: /expected a duration from 1s to 2h, found 3h$/, fix: /^write `timeout: 2h`$/ },
  { name: 'release timeout below range', text: 'release:\n  command: node migrate.js\n  timeout: 500ms\n', path: 'release.timeout', message: /from 1s to 2h, found 500ms$/, fix: /`timeout: 1s`/ },
  // ports and resources
  { name: 'port 0', text: 'processes:\n  web:\n    port: 0\n', path: 'processes.web.port', message: /^line 3: expected a whole number from 1 to 65535, found 0$/, fix: /^write `port: 1`$/ },
  { name: 'port 70000', text: 'processes:\n  api:\n    command: node api.js\n    port: 70000\n', path: 'processes.api.port', message: /from 1 to 65535, found 70000$/, fix: /^write `port: 65535`$/ },
  { name: 'port "80", quoted', text: 'processes:\n  web:\n    port: "80"\n', path: 'processes.web.port', message: /found the quoted text "80"$/, fix: /^remove the quotes: `port: 80`$/ },
  { name: 'memory "lots"', text: 'processes:\n  web:\n    resources:\n      memory: lots\n', path: 'processes.web.resources.memory', message: /^line 4: expected a size such as `256mb`, `1.5gb` or `512k`, found the string "lots"$/, fix: /^write `memory: 512mb`$/ },
  { name: 'memory "1tb", above the maximum', text: 'processes:\n  web:\n    resources:\n      memory: 1tb\n', path: 'processes.web.resources.memory', message: /expected a size from 6mb to 64gb, found 1tb$/, fix: /^write `memory: 64gb`$/ },
  { name: 'memory "1mb", below the minimum', text: 'processes:\n  web:\n    resources:\n      memory: 1mb\n', path: 'processes.web.resources.memory', message: /expected a size from 6mb to 64gb, found 1mb$/, fix: /^write `memory: 6mb`$/ },
  { name: 'memory as a bare number', text: 'processes:\n  web:\n    resources:\n      memory: 512\n', path: 'processes.web.resources.memory', message: /found the number 512 with no unit$/, fix: /^add a unit: `memory: 512mb`$/ },
  { name: 'memory in MiB', text: 'processes:\n  web:\n    resources:\n      memory: 512 MiB\n', path: 'processes.web.resources.memory', message: /found the string "512 MiB"$/, fix: /^write `memory: 512mb`$/ },
  { name: 'cpus 0', text: 'processes:\n  web:\n    resources:\n      cpus: 0\n', path: 'processes.web.resources.cpus', message: /^line 4: expected a number from 0.01 to 64, found 0$/, fix: /^write `cpus: 0.01`$/ },
  { name: 'cpus 100', text: 'processes:\n  web:\n    resources:\n      cpus: 100\n', path: 'processes.web.resources.cpus', message: /from 0.01 to 64, found 100$/, fix: /^write `cpus: 64`$/ },
  { name: 'cpus "half"', text: 'processes:\n  web:\n    resources:\n      cpus: half\n', path: 'processes.web.resources.cpus', message: /expected a number from 0.01 to 64, found the string "half"$/, fix: /^write `cpus: 0.5`$/ },
  { name: 'cpus quoted', text: 'processes:\n  web:\n    resources:\n      cpus: "0.5"\n', path: 'processes.web.resources.cpus', message: /found the quoted text "0.5"$/, fix: /^remove the quotes: `cpus: 0.5`$/ },
  { name: 'a resource key in the wrong place', text: 'processes:\n  web:\n    memory: 512mb\n', path: 'processes.web.memory', message: /`memory` belongs at `processes.<name>.resources.memory`/, fix: /move it to/ },
  // depends_on
  { name: 'depends_on: an unknown name close to a service', text: 'processes:\n  web:\n    depends_on: [redsi]\nservices:\n  redis: redis:7\n', path: 'processes.web.depends_on[0]', message: /^line 3: `redsi` is not a process or service of this app; did you mean `redis`\?$/, fix: /^write `- redis`$/ },
  {
    name: 'depends_on: an unknown name close to nothing',
    text: 'processes:\n  web:\n    depends_on:\n      - redis\n      - search\nservices:\n  redis: redis:7\n',
    path: 'processes.web.depends_on[1]',
    message: /^line 5: `search` is not a process or service of this app \(processes: `web`; services: `redis`\)$/,
    fix: /^add a service or process named `search`, or remove this entry$/,
  },
  { name: 'depends_on: itself', text: 'processes:\n  web:\n  worker:\n    command: node w.js\n    depends_on: [web, worker]\n', path: 'processes.worker.depends_on[1]', message: /is `worker` itself, and a process cannot wait for itself$/, fix: /^remove this entry$/ },
  {
    name: 'depends_on: a cycle of two',
    text: 'processes:\n  web:\n    depends_on: [api]\n  api:\n    command: node api.js\n    depends_on: [web]\n',
    path: 'processes.web.depends_on[0]',
    message: /^line 3: makes a cycle: web -> api -> web, so none of these processes could start first$/,
    fix: /^remove one link of the cycle, such as `api` from `processes.web.depends_on`$/,
  },
  {
    name: 'depends_on: a cycle of three, named from the process written first',
    text: 'processes:\n  web:\n    depends_on: [c]\n  a:\n    command: a\n    depends_on: [redis, b]\n  b:\n    command: b\n    depends_on: [c]\n  c:\n    command: c\n    depends_on: [a]\nservices:\n  redis: redis:7\n',
    path: 'processes.a.depends_on[1]',
    message: /makes a cycle: a -> b -> c -> a/,
    fix: /such as `b` from `processes.a.depends_on`/,
  },
  { name: 'depends_on: a name twice', text: 'processes:\n  web:\n    depends_on: [redis, redis]\nservices:\n  redis: redis:7\n', path: 'processes.web.depends_on[1]', message: /`redis` is listed twice \(also at processes.web.depends_on\[0\]\)/, fix: /remove this entry/ },
  // process health
  { name: 'health on web', text: 'processes:\n  web:\n    health:\n      command: curl -f localhost\n', path: 'processes.web.health', message: /^line 3: `web` is checked by the top-level `health` block/, fix: /top-level `health:` block .*or remove `processes.web.health`/ },
  { name: 'health with heartbeat and command', text: 'processes:\n  worker:\n    command: node w.js\n    health:\n      heartbeat: /tmp/hb\n      command: node check.js\n', path: 'processes.worker.health', message: /^line 4: sets both `heartbeat` and `command`/, fix: /^keep either `heartbeat:` or `command:` and remove the other$/ },
  { name: 'health with neither heartbeat nor command', text: 'processes:\n  worker:\n    command: node w.js\n    health:\n      interval: 10s\n', path: 'processes.worker.health', message: /sets neither `heartbeat` nor `command`, so berth has nothing to check/, fix: /add `heartbeat: \/tmp\/heartbeat` .* or `command: node check.js`/ },
  { name: 'health max_age with a command', text: 'processes:\n  worker:\n    command: node w.js\n    health:\n      command: node check.js\n      max_age: 1m\n', path: 'processes.worker.health.max_age', message: /^line 6: applies only to a `heartbeat` file/, fix: /^remove `max_age`$/ },
  { name: 'health interval out of range', text: 'processes:\n  worker:\n    command: node w.js\n    health:\n      heartbeat: hb\n      interval: 1h\n', path: 'processes.worker.health.interval', message: /from 100ms to 10m, found 1h$/, fix: /`interval: 10m`/ },
  // per-process restart
  {
    name: 'a process restart backoff longer than the top-level max_backoff',
    text: 'processes:\n  worker:\n    command: node w.js\n    restart:\n      backoff: 1m\n',
    path: 'processes.worker.restart.backoff',
    message: /^line 5: is 1m, longer than `max_backoff` \(30s, from the top-level `restart`\)$/,
    fix: /^write `backoff: 30s` or less, or raise `max_backoff`$/,
  },
  { name: 'a process restart max_backoff below the top-level backoff', text: 'restart:\n  backoff: 5s\nprocesses:\n  web:\n    restart:\n      max_backoff: 2s\n', path: 'processes.web.restart.max_backoff', message: /is 2s, shorter than `backoff` \(5s, from the top-level `restart`\)/, fix: /`max_backoff: 5s` or more/ },
  // services
  { name: 'a service without an image', text: 'services:\n  redis:\n    command: redis-server\n', path: 'services.redis.image', message: /^line 2: is required: berth runs the service from it$/, fix: /^write `image: redis:7-alpine`$/ },
  { name: 'a service with nothing', text: 'services:\n  redis:\n', path: 'services.redis', message: /has no value: a service needs an image/, fix: /^write `redis: redis:7-alpine`, or a mapping with `image:`$/ },
  { name: 'an image with capitals', text: 'services:\n  db: Postgres:16\n', path: 'services.db', message: /"Postgres:16" is not a valid image: the name must be lowercase, unlike `Postgres`$/, fix: /^write `db: postgres:16`$/ },
  { name: 'an invalid service name', text: 'services:\n  my_cache: redis:7\n', path: 'services.my_cache', message: /`my_cache` is not a valid service name: expected 1 to 30 lowercase letters, digits and `-`/, fix: /^rename it to `my-cache`$/ },
  {
    name: 'a service named like a process',
    text: 'processes:\n  web:\n  worker: node w.js\nservices:\n  worker: redis:7\n',
    path: 'services.worker',
    message: /^line 5: `worker` is the name of both a service \(`services.worker`\) and a process \(`processes.worker`\)/,
    fix: /^rename the service or the process, such as `worker-svc`$/,
  },
  { name: 'a relative volume path', text: 'services:\n  db:\n    image: postgres:16\n    volumes:\n      data: var/lib/data\n', path: 'services.db.volumes.data', message: /^line 5: "var\/lib\/data" is not a valid mount path: expected an absolute path in the container/, fix: /^write `data: \/var\/lib\/data`$/ },
  { name: 'a bad volume name', text: 'services:\n  db:\n    image: postgres:16\n    volumes:\n      Pg Data: /data\n', path: 'services.db.volumes["Pg Data"]', message: /`Pg Data` is not a valid volume name: expected 1 to 63 lowercase letters/, fix: /^rename it to `pg-data`$/ },
  { name: 'two volumes at one path', text: 'services:\n  db:\n    image: postgres:16\n    volumes:\n      a: /data\n      b: /data\n', path: 'services.db.volumes.b', message: /is mounted at \/data, like `a`/, fix: /mount it at another path/ },
  { name: 'a url_env that is not a variable name', text: 'services:\n  cache:\n    image: redis:7\n    url_env: redis-url\n', path: 'services.cache.url_env', message: /^line 4: "redis-url" is not a valid variable name: expected letters, digits and `_`, not starting with a digit; not PORT or BERTH_\*/, fix: /^write `url_env: REDIS_URL`$/ },
  { name: 'a url_env berth sets itself', text: 'services:\n  cache:\n    image: redis:7\n    url_env: BERTH_CACHE\n', path: 'services.cache.url_env', message: /"BERTH_CACHE" is not a valid variable name/, fix: /`url_env: CACHE_URL`/ },
  {
    name: 'two services with the same default url_env',
    text: 'services:\n  main: postgres:16\n  analytics: postgres:16\n',
    path: 'services.analytics.url_env',
    message: /^line 3: is DATABASE_URL \(the default for a `postgres` image\), which `services.main` sets too$/,
    fix: /^give one of them another `url_env`, such as `url_env: ANALYTICS_URL`$/,
  },
  { name: 'a url_env that env sets too', text: 'services:\n  cache:\n    image: redis:7\n    url_env: CACHE_URL\nenv:\n  CACHE_URL: redis://elsewhere\n', path: 'services.cache.url_env', message: /^line 4: is CACHE_URL, which `env` sets too/, fix: /remove CACHE_URL from `env`, or write `url_env: CACHE_SERVICE_URL`/ },
  { name: 'a url with no variable to carry it', text: 'services:\n  search:\n    image: ghcr.io/x/custom\n    url: http://search:9200\n', path: 'services.search.url', message: /is set, but no variable carries it: berth knows no URL variable for the image `custom`/, fix: /^add `url_env: SEARCH_URL`$/ },
  { name: 'a service key from Docker Compose', text: 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_DB: app\n', path: 'services.db.environment', message: /did you mean `env`\?/, fix: /rename `environment` to `env`/ },
  { name: 'a service health without a command', text: 'services:\n  db:\n    image: postgres:16\n    health:\n      retries: 5\n', path: 'services.db.health.command', message: /is required: it is the check/, fix: /`command: redis-cli ping`/ },
  { name: 'service health retries out of range', text: 'services:\n  db:\n    image: postgres:16\n    health:\n      command: pg_isready\n      retries: 0\n', path: 'services.db.health.retries', message: /from 1 to 100, found 0$/, fix: /`retries: 1`/ },
  // image and update
  { name: 'image: capitals (Redis:7)', text: 'image: Redis:7\n', path: 'image', message: /^line 1: "Redis:7" is not a valid image: the name must be lowercase, unlike `Redis`$/, fix: /^write `image: redis:7`$/ },
  { name: 'image: a space (a b)', text: 'image: a b\n', path: 'image', message: /^line 1: "a b" is not a valid image: an image reference has no spaces$/, fix: /^write `image: ghcr.io\/acme\/web:1.4`$/ },
  {
    name: 'image: 300 characters',
    text: `image: ${'a'.repeat(300)}\n`,
    path: 'image',
    message: /^line 1: "a{39}…" is not a valid image: its name is 318 characters long counting the `docker.io\/library\/` it stands for; Docker allows at most 255$/,
    fix: /^write `image: ghcr.io\/acme\/web:1.4`$/,
  },
  { name: 'image: longer than any reference', text: `image: ${'a'.repeat(600)}\n`, path: 'image', message: /^line 1: is 600 characters long; at most 520 allowed$/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: an empty string', text: 'image: ""\n', path: 'image', message: /^line 1: expected an image, found an empty string$/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: a number', text: 'image: 7\n', path: 'image', message: /^line 1: expected an image, found the number 7$/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: a URL', text: 'image: https://ghcr.io/Acme/web:1.4\n', path: 'image', message: /has no scheme such as `https:\/\/`/, fix: /^write `image: ghcr.io\/acme\/web:1.4`$/ },
  { name: 'image: a pasted docker pull', text: 'image: docker pull nginx:1.27\n', path: 'image', message: /an image reference has no spaces$/, fix: /^write `image: nginx:1.27`$/ },
  { name: 'image: a tag starting with a dot', text: 'image: "redis:.7"\n', path: 'image', message: /the tag `.7` is not valid: a tag is 1 to 128 letters/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: a colon without a tag', text: 'image: "redis:"\n', path: 'image', message: /ends its name with `:` but no tag/, fix: /^write `image: redis`$/ },
  { name: 'image: a short digest', text: 'image: redis@sha256:abc\n', path: 'image', message: /the digest after `@` must be `sha256:` and 64 lowercase hex digits$/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: an upper-case digest', text: `image: redis@sha256:${'A'.repeat(64)}\n`, path: 'image', message: /64 lowercase hex digits$/, fix: new RegExp(`^write \`image: redis@sha256:${'a'.repeat(64)}\`$`) },
  { name: 'image: an unknown digest algorithm', text: `image: redis@md5:${'a'.repeat(32)}\n`, path: 'image', message: /must start with `sha256:`/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: two dots in a name', text: 'image: a..b\n', path: 'image', message: /`a..b` is not a valid part of a name/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: a port that is no number', text: 'image: ghcr.io:abc/web\n', path: 'image', message: /`ghcr.io:abc` is not a valid registry host/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image: a trailing slash', text: 'image: ghcr.io/acme/\n', path: 'image', message: /its name has an empty part/, fix: /^write `image: ghcr.io\/acme`$/ },
  { name: 'image: an image ID', text: `image: ${'ab'.repeat(32)}\n`, path: 'image', message: /a 64-digit hex string is an image ID/, fix: /`image: ghcr.io\/acme\/web:1.4`/ },
  { name: 'image beside build', text: 'build: npm run build\nimage: ghcr.io/acme/web:1.4\n', path: 'build', message: /^line 1: is a build command, but `image` runs a prebuilt image, and berth builds nothing for it$/, fix: /^remove `build` to run the image, or remove `image` to build the folder$/ },
  { name: 'image beside dockerfile', text: 'image: ghcr.io/acme/web:1.4\ndockerfile: Dockerfile\n', path: 'dockerfile', message: /^line 2: builds the app's image from its folder, but `image` names a prebuilt one/, fix: /^remove `dockerfile` to run `image`, or remove `image` to build from the Dockerfile$/ },
  { name: 'image beside static', text: 'image: ghcr.io/acme/web:1.4\nstatic: public\n', path: 'static', message: /^line 2: serves a folder of the app, but `image` runs a prebuilt image/, fix: /^remove `static` to run the image, or remove `image` to serve the folder$/ },
  { name: 'a misspelt image key', text: 'imgae: nginx\n', path: 'imgae', message: /did you mean `image`\?/, fix: /^rename `imgae` to `image`$/ },
  {
    name: 'update on a built app',
    text: 'build: npm run build\nupdate: 5m\n',
    path: 'update',
    message: /^line 2: follows the tag of `image`, but this app has no `image`: berth builds it from its folder, so there is no tag to follow$/,
    fix: /^remove `update`, or run a prebuilt image with `image:`; a service follows its own image with `services.<name>.update`$/,
  },
  { name: 'update on an image pinned by digest', text: `image: nginx@sha256:${'a'.repeat(64)}\nupdate: 5m\n`, path: 'update', message: /^line 2: follows the tag of `image`, but `image` is pinned to a digest/, fix: /^remove the `@` and the digest from `image` to follow its tag, or remove `update`$/ },
  { name: 'update on a service pinned by digest', text: `services:\n  db:\n    image: postgres:16@sha256:${'a'.repeat(64)}\n    update: 1h\n`, path: 'services.db.update', message: /^line 4: follows the tag of `image`, but `image` is pinned to a digest/, fix: /remove the `@` and the digest from `image`/ },
  { name: 'update: a bare number', text: 'image: nginx\nupdate: 5\n', path: 'update', message: /^line 2: expected a duration such as `500ms`, `5s`, `1m` or `2h`, found the number 5 with no unit$/, fix: /^add a unit: `update: 5s`$/ },
  { name: 'update: true', text: 'image: nginx\nupdate: true\n', path: 'update', message: /expected a duration or a mapping with `interval:`, found the boolean true$/, fix: /^write `update: \{ interval: 5m, settle: 2m \}`$/ },
  { name: 'update: interval below 5s', text: 'image: nginx\nupdate:\n  interval: 1s\n', path: 'update.interval', message: /^line 3: expected a duration from 5s to 24h, found 1s$/, fix: /^write `interval: 5s`$/ },
  { name: 'update: the shorthand above 24h', text: 'image: nginx\nupdate: 2d\n', path: 'update', message: /from 5s to 24h, found 2d$/, fix: /^write `update: 1d`$/ },
  { name: 'update: settle above 1h', text: 'image: nginx\nupdate:\n  settle: 2h\n', path: 'update.settle', message: /from 0s to 1h, found 2h$/, fix: /^write `settle: 1h`$/ },
  { name: 'update: a semver policy', text: 'image: app:1.4.2\nupdate:\n  interval: 10m\n  policy: semver-minor\n', path: 'update.policy', message: /^line 4: berth has no tag policy: it follows the tag written in the image/, fix: /such as `app:1.4` for the patches of 1.4 .*and remove `policy`$/ },
  { name: 'update: a key from another updater', text: 'image: nginx\nupdate:\n  poll_interval: 10m\n', path: 'update.poll_interval', message: /did you mean `interval`\?/, fix: /^rename `poll_interval` to `interval`$/ },
  { name: 'update under a process', text: 'image: nginx\nprocesses:\n  web:\n    update: 5m\n', path: 'processes.web.update', message: /`update` belongs at `update`/, fix: /move it to/ },
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
  strategy: canery
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
  assert.deepEqual({ ...missing, manifest: ordinary(missing.manifest) }, { manifest: DEFAULTS, found: false, file: join(dir, 'berth.yaml') });

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
