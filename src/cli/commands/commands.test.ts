/**
 * Commands run through main() against a real HTTP server playing the API, with string sinks for output
 * and an explicit env (temp dirs, never the real HOME).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { readStat } from '../../lib/proc.ts';
import type { App, Release } from '../../model/wire.ts';
import { loginFile } from '../config.ts';
import { main } from '../main.ts';
import { processAlive } from './down.ts';
import { deploymentFixture, sendEvents, sendJson, startFakeApi, testIo, withTempDir, type FakeApi, type Handler, type TestIo } from '../cli.test-support.ts';

const deployment = deploymentFixture;

const succeeded = deployment({ state: 'succeeded', release: { id: 'rel_3', version: 3, name: 'v3' }, finishedAt: '2024-05-01T12:00:07Z' });

type Ev = { seq: number; type: string; message: string; data?: Record<string, unknown> };

/** Shaped like the server's (src/deploy/steps.ts). */
const EVENTS: Ev[] = [
  { seq: 1, type: 'deploy.queued', message: 'queued' },
  { seq: 2, type: 'deploy.state', message: '', data: { state: 'building' } },
  { seq: 3, type: 'build.log', message: 'npm run build' },
  { seq: 4, type: 'deploy.state', message: '', data: { state: 'starting' } },
  { seq: 5, type: 'deploy.state', message: '', data: { state: 'verifying' } },
  { seq: 6, type: 'health.probe', message: 'web.0 ok (1/2)', data: { instance: 'ins_aaaa1b2', ok: true, status: 200, consecutive: 1 } },
  { seq: 7, type: 'health.probe', message: 'web.0 ok (2/2)', data: { instance: 'ins_aaaa1b2', ok: true, status: 200, consecutive: 2 } },
  { seq: 8, type: 'deploy.switched', message: 'v3 is live at http://hello.localhost:8080', data: { release: 'rel_3', version: 3, urls: ['http://hello.localhost:8080'] } },
  { seq: 9, type: 'deploy.succeeded', message: '' },
];

interface Run {
  code: number;
  io: TestIo;
  api: FakeApi;
}

/** Runs `berth <argv>` with BERTH_URL pointing at a fake API serving `routes`. */
async function berth(argv: string[], routes: Record<string, Handler>, options: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const api = await startFakeApi(routes);
  try {
    return await withTempDir(async (home) => {
      const io = testIo({
        env: { BERTH_URL: api.url, BERTH_TOKEN: 'tok', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), ...options.env },
        cwd: options.cwd ?? home,
        stdin: options.stdin,
      });
      const code = await main(argv, io);
      return { code, io, api };
    });
  } finally {
    await api.close();
  }
}

async function appFolder(dir: string, files: Record<string, string>): Promise<string> {
  const app = join(dir, 'hello');
  await mkdir(app, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(app, name), text);
  return app;
}

const deployRoutes = (events = EVENTS, final = succeeded): Record<string, Handler> => ({
  'POST /v1/apps/hello/deploys': (_req, res) => sendJson(res, 202, { deployment: deployment() }),
  'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, events),
  'GET /v1/deployments/dep_1': (_req, res) => sendJson(res, 200, final),
});

test('deploy: validates, packs, uploads, follows with plain lines and ends with the URL', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'package.json': '{"name":"hello","scripts":{"start":"node server.js"}}', 'server.js': 'listen()', '.env': 'SECRET=1' });
    const { code, io, api } = await berth(['deploy', app, '--wait'], deployRoutes());
    assert.equal(code, 0, io.stderr.text);
    assert.equal(io.stderr.text, '');
    assert.equal(
      io.stdout.text,
      [
        `deploying hello from ${app} to ${api.url}`,
        'skipped .env (env file: use `berth env set`)',
        `upload: 2 files, ${Buffer.byteLength('{"name":"hello","scripts":{"start":"node server.js"}}') + 8} B`,
        'state: queued',
        'state: building',
        'build: npm run build',
        'state: starting',
        'state: verifying',
        'health: web.0 ok (1/2)',
        'health: web.0 ok (2/2)',
        'switch: traffic now goes to v3',
        'deployed hello v3 (rel_3) -> http://hello.localhost:8080',
        '',
      ].join('\n'),
    );
    const upload = api.requests.find((req) => req.method === 'POST')!;
    assert.equal(upload.query.get('wait'), '1');
    assert.equal(upload.headers.authorization, 'Bearer tok');
    const tar = gunzipSync(upload.body).toString('latin1');
    assert.ok(tar.includes('server.js') && !tar.includes('SECRET=1'), 'the .env file stays home');
  });
});

test('deploy: an invalid berth.yaml lists every issue and uploads nothing', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'berth.yaml': 'name: Hello\nhealth:\n  interval: soon\n' });
    const { code, io, api } = await berth(['deploy', app], deployRoutes());
    assert.equal(code, 1);
    assert.match(io.stderr.text, /^error: .*berth\.yaml is not valid:\n  - name: line 1: .*\n  - health\.interval: line 3: /);
    assert.deepEqual(api.requests, []);
  });
});

test('deploy: a failed deployment prints the log tail, error and hint, and exits 1', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'server.js': '' });
    const error = { code: 'BUILD_FAILED', message: 'build failed: exit code 2', hint: 'the last build lines are shown above', logTail: ['npm ERR! missing script: build'] };
    const events = [...EVENTS.slice(0, 3), { seq: 4, type: 'deploy.failed', message: '', data: error }];
    const { code, io } = await berth(['deploy', app], deployRoutes(events, deployment({ state: 'failed', error })));
    assert.equal(code, 1);
    assert.equal(io.stderr.text, 'last log lines:\n  | npm ERR! missing script: build\nerror: build failed: exit code 2\nhint: the last build lines are shown above\n');
    assert.doesNotMatch(io.stdout.text, /deployed/);
  });
});

test('deploy --json: progress on stderr, exactly the final Deployment on stdout', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'server.js': '' });
    const { code, io } = await berth(['deploy', app, '--json'], deployRoutes());
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(io.stdout.text), succeeded);
    assert.match(io.stderr.text, /state: building/);
  });
});

test('deploy --detach prints the deployment id and does not follow', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'server.js': '' });
    const { code, io, api } = await berth(['deploy', app, '--detach', '--app', 'hello'], deployRoutes());
    assert.equal(code, 0);
    assert.equal(io.stdout.text.trimEnd().split('\n').at(-1), 'dep_1');
    assert.ok(!api.requests.some((req) => req.path.endsWith('/events')));
  });
});

test('deploy: a dropped event stream resumes after the last event seen', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'server.js': '' });
    let connections = 0;
    const routes = deployRoutes();
    routes['GET /v1/deployments/dep_1/events'] = (req, res) => {
      connections++;
      if (connections === 1) sendEvents(res, EVENTS.slice(0, 3));
      else sendEvents(res, EVENTS.filter((event) => event.seq > Number(req.query.get('after'))));
    };
    let polls = 0;
    routes['GET /v1/deployments/dep_1'] = (_req, res) => sendJson(res, 200, polls++ === 0 ? deployment({ state: 'building' }) : succeeded);
    const { code, io, api } = await berth(['deploy', app], routes);
    assert.equal(code, 0, io.stderr.text);
    assert.equal(io.stdout.text.match(/build: npm run build/g)?.length, 1, 'no event is shown twice');
    assert.match(io.stdout.text, /^deployed hello v3/m);
    assert.equal(api.requests.filter((req) => req.path.endsWith('/events'))[1].query.get('after'), '3');
  });
});

test('rollback: v3 and 3 both ask for v3, and the deployment is followed like a deploy', async () => {
  const rolled = { ...succeeded, kind: 'rollback' as const };
  const routes: Record<string, Handler> = {
    'POST /v1/apps/hello/rollback': (_req, res) => sendJson(res, 202, { deployment: deployment({ kind: 'rollback' }) }),
    'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, [EVENTS[0], EVENTS[7], EVENTS[8]]),
    'GET /v1/deployments/dep_1': (_req, res) => sendJson(res, 200, rolled),
  };
  const { code, io, api } = await berth(['rollback', 'hello', '3'], routes);
  assert.equal(code, 0, io.stderr.text);
  assert.deepEqual(JSON.parse(api.requests[0].body.toString()), { release: 'v3' });
  assert.match(io.stdout.text, /switch: traffic now goes to v3\nrolled back hello to v3 \(rel_3\) -> http:\/\/hello\.localhost:8080\n$/);
});

test('env set: values with =, one from stdin; only names are printed; the rollout is followed', async () => {
  const routes: Record<string, Handler> = {
    'PATCH /v1/apps/hello/env': (_req, res) => sendJson(res, 202, { changed: ['DATABASE_URL', 'TOKEN'], deployment: deployment({ kind: 'env' }) }),
    'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, EVENTS),
    'GET /v1/deployments/dep_1': (_req, res) => sendJson(res, 200, { ...succeeded, kind: 'env' }),
  };
  const { code, io, api } = await berth(['env', 'set', 'hello', 'DATABASE_URL=postgres://u:p@h/db?a=b', 'TOKEN=-', 'SAME=1'], routes, { stdin: 'from-stdin-secret\n' });
  assert.equal(code, 0, io.stderr.text);
  assert.deepEqual(JSON.parse(api.requests[0].body.toString()), { set: { DATABASE_URL: 'postgres://u:p@h/db?a=b', TOKEN: 'from-stdin-secret', SAME: '1' } });
  assert.match(io.stdout.text, /^set DATABASE_URL, TOKEN\nunchanged \(same value already\): SAME\nrolling out a new release of hello \(dep_1\)\n/);
  const everything = io.stdout.text + io.stderr.text;
  assert.ok(!everything.includes('from-stdin-secret') && !everything.includes('postgres://'), 'values never printed');
});

test('env set PORT=1 is refused before any request, naming the variable and what to do', async () => {
  const { code, io, api } = await berth(['env', 'set', 'hello', 'PORT=1'], {});
  assert.equal(code, 1);
  assert.equal(api.requests.length, 0);
  assert.equal(io.stderr.text, 'error: "PORT" is set by berth and cannot be changed\nhint: berth sets PORT and BERTH_* for every process; pick another name\n');
});

test('env unset --json on an app without a release prints the API answer', async () => {
  const { code, io } = await berth(['env', 'unset', 'hello', 'A', '--json'], { 'PATCH /v1/apps/hello/env': (_req, res) => sendJson(res, 202, { changed: ['A'], deployment: null }) });
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(io.stdout.text), { changed: ['A'], deployment: null });
});

test('env list shows names only, values with --reveal', async () => {
  const routes: Record<string, Handler> = {
    'GET /v1/apps/hello/env': (req, res) =>
      sendJson(res, 200, { app: 'hello', release: 'v2', unsetButServed: [], vars: [{ name: 'A', updatedAt: new Date().toISOString(), serving: true, ...(req.query.get('reveal') ? { value: 'x=y' } : {}) }] }),
  };
  const hidden = await berth(['env', 'list', 'hello'], routes);
  assert.equal(hidden.io.stdout.text, 'NAME  UPDATED   SERVED\nA     just now  yes\n');
  const shown = await berth(['env', 'list', 'hello', '--reveal'], routes);
  assert.equal(shown.io.stdout.text, 'A=x=y\n');
  assert.equal(shown.api.requests[0].query.get('reveal'), '1');
});

test('env list says which vars the serving release does not run with', async () => {
  const { io } = await berth(['env', 'list', 'hello'], {
    'GET /v1/apps/hello/env': (_req, res) =>
      sendJson(res, 200, { app: 'hello', release: 'v1', unsetButServed: ['OLD'], vars: [{ name: 'FAIL', updatedAt: new Date().toISOString(), serving: false }] }),
  });
  assert.match(io.stdout.text, /^FAIL +just now +no$/m);
  assert.match(io.stdout.text, /unset, but v1 still runs with: OLD/);
  assert.match(io.stdout.text, /v1 serves an older env .*`berth deploy`/);
});

test('apps, status and releases format the API answers; --json prints them as they are', async () => {
  const app: App = {
    name: 'hello',
    createdAt: '2024-05-01T12:00:00Z',
    urls: ['http://hello.localhost:8080'],
    status: 'running',
    health: 'healthy',
    release: { id: 'rel_3', version: 3, name: 'v3' },
    deploying: null,
    instances: [
      { id: 'ins_0000a1b2', process: 'web', ordinal: 0, release: { id: 'rel_3', version: 3, name: 'v3' }, state: 'serving', run: 'running', address: '127.0.0.1:41001', restarts: 0, health: 'healthy' },
      { id: 'ins_0000c3d4', process: 'web', ordinal: 0, release: { id: 'rel_2', version: 2, name: 'v2' }, state: 'standby', run: 'running', address: '127.0.0.1:41000', restarts: 1, health: 'unknown' },
    ],
    updates: [],
    chaos: null,
  };
  // Stamped when served, so they read `just now` however long the test took to get there.
  const releases = (): Release[] => {
    const createdAt = new Date().toISOString();
    return [
      { id: 'rel_3', version: 3, name: 'v3', description: '0123456-dirty add /health', createdAt, status: 'ready', gitSha: '0123456789ab-dirty', image: null, current: true, warm: false, rollbackable: false },
      { id: 'rel_2', version: 2, name: 'v2', description: 'deploy', createdAt, status: 'ready', gitSha: '89abcdef0123', image: null, current: false, warm: true, rollbackable: true },
      { id: 'rel_4', version: 4, name: 'v4', description: 'env: A', createdAt, status: 'ready', gitSha: '0123456789ab-dirty', image: null, current: false, warm: false, rollbackable: true },
      { id: 'rel_1', version: 1, name: 'v1', description: '', createdAt, status: 'pruned', gitSha: null, image: null, current: false, warm: false, rollbackable: false },
    ];
  };
  const routes: Record<string, Handler> = {
    'GET /v1/apps': (_req, res) => sendJson(res, 200, { apps: [app] }),
    'GET /v1/apps/hello': (_req, res) => sendJson(res, 200, app),
    'GET /v1/apps/hello/deployments': (_req, res) => sendJson(res, 200, { deployments: [succeeded] }),
    'GET /v1/apps/hello/releases': (_req, res) => sendJson(res, 200, { releases: releases() }),
  };
  assert.equal((await berth(['apps'], routes)).io.stdout.text, 'NAME   STATUS   RELEASE  INSTANCES  HEALTH   URL\nhello  running  v3       1/1        healthy  http://hello.localhost:8080\n');
  assert.deepEqual(JSON.parse((await berth(['apps', '--json'], routes)).io.stdout.text), { apps: [app] });

  const status = (await berth(['status', 'hello'], routes)).io.stdout.text;
  assert.match(status, /^hello\n  status   running\n  health   healthy\n  release  v3 \(rel_3\)\n  urls     http:\/\/hello\.localhost:8080\n\n/);
  assert.match(status, /ID    PROCESS  RELEASE  STATE    RUN      HEALTH   RESTARTS  ADDRESS\na1b2  web      v3       serving  running  healthy  0         127\.0\.0\.1:41001\nc3d4  web      v2       standby  running  unknown  1         127\.0\.0\.1:41000\n/);
  assert.match(status, /last deployment: dep_1 \(deploy -> v3\) succeeded, \d+d ago\n$/);
  assert.deepEqual(JSON.parse((await berth(['status', 'hello', '--json'], routes)).io.stdout.text), { app, lastDeployment: succeeded, traffic: null });

  const listed = (await berth(['releases', 'hello'], routes)).io.stdout.text;
  assert.equal(
    listed,
    [
      'VERSION       ID     CREATED   COMMIT         DESCRIPTION',
      'v3 (current)  rel_3  just now  0123456-dirty  add /health',
      'v2 (warm)     rel_2  just now  89abcde        deploy',
      'v4 (kept)     rel_4  just now  0123456-dirty  env: A',
      'v1 (pruned)   rel_1  just now  -              -',
      '',
      'warm releases still run in standby: `berth rollback hello v2` switches back instantly',
      '',
    ].join('\n'),
  );
  const json = JSON.parse((await berth(['releases', 'hello', '--json'], routes)).io.stdout.text) as { releases: Release[] };
  assert.deepEqual(json.releases.map((release) => [release.description, release.gitSha]), releases().map((release) => [release.description, release.gitSha]));
});

test('logs: `<time> <process>.<instance> <line>`, stderr marked; -f follows the stream', async () => {
  const ts = new Date().toISOString();
  const lines = [
    { ts, stream: 'stdout', line: 'listening on 3000', instance: 'ins_0000a1b2', process: 'web', release: 'v3' },
    { ts, stream: 'stderr', line: 'warning: x', instance: 'ins_0000a1b2', process: 'web', release: 'v3' },
  ];
  const routes: Record<string, Handler> = {
    'GET /v1/apps/hello/logs': (req, res) => {
      if (req.query.get('follow') !== '1') return sendJson(res, 200, { lines });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const line of lines) res.write(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
      res.end();
    },
  };
  const { code, io, api } = await berth(['logs', 'hello', '--tail', '2', '--since', '10m', '--process', 'web'], routes);
  assert.equal(code, 0);
  const time = io.stdout.text.slice(0, 12);
  assert.match(time, /^\d\d:\d\d:\d\d\.\d{3}$/);
  assert.equal(io.stdout.text, `${time} web.a1b2 listening on 3000\n${time} web.a1b2 [stderr] warning: x\n`);
  assert.deepEqual(Object.fromEntries(api.requests[0].query), { tail: '2', since: '10m', process: 'web' });

  const followed = await berth(['logs', 'hello', '-f', '--json'], routes);
  assert.deepEqual(followed.io.stdout.text.trimEnd().split('\n').map((line) => JSON.parse(line)), lines);
  assert.equal(followed.api.requests[0].query.get('follow'), '1');
  // The server ending a follow stream means it went away: that is a failure.
  assert.equal(followed.code, 1);
  assert.match(followed.io.stderr.text, /the server ended the log stream/);
  // So does the connection dropping mid-stream (the daemon killed or restarting).
  const dropped = await berth(['logs', 'hello', '-f'], {
    'GET /v1/apps/hello/logs': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: log\ndata: ${JSON.stringify(lines[0])}\n\n`, () => res.socket?.destroy());
    },
  });
  assert.equal(dropped.code, 1);
  assert.match(dropped.io.stdout.text, /web\.a1b2 listening on 3000\n$/);
  assert.match(dropped.io.stderr.text, /the server ended the log stream/);
});

test('API errors print their message and hint and exit 1', async () => {
  const { code, io } = await berth(['status', 'nope'], {
    'GET /v1/apps/nope': (_req, res) => sendJson(res, 404, { error: { code: 'APP_NOT_FOUND', message: 'app "nope" does not exist', hint: 'list apps with `berth apps`' } }),
    'GET /v1/apps/nope/deployments': (_req, res) => sendJson(res, 404, { error: { code: 'APP_NOT_FOUND', message: 'app "nope" does not exist', hint: 'list apps with `berth apps`' } }),
  });
  assert.equal(code, 1);
  assert.equal(io.stderr.text, 'error: app "nope" does not exist\nhint: list apps with `berth apps`\n');
});

test('destroy: refuses without a terminal or --yes (exit 2), deletes with --yes', async () => {
  const routes: Record<string, Handler> = { 'DELETE /v1/apps/hello': (_req, res) => sendJson(res, 200, { destroyed: 'hello' }) };
  const refused = await berth(['destroy', 'hello'], routes);
  assert.equal(refused.code, 2);
  assert.match(refused.io.stderr.text, /hint: pass --yes/);
  assert.deepEqual(refused.api.requests, []);
  const done = await berth(['destroy', 'hello', '--yes'], routes);
  assert.equal(done.code, 0);
  assert.equal(done.io.stdout.text, 'destroyed hello\n');
});

test('create checks the name locally, then creates', async () => {
  const routes: Record<string, Handler> = { 'POST /v1/apps': (_req, res) => sendJson(res, 201, { name: 'shop' }) };
  const bad = await berth(['create', 'Shop!'], routes);
  assert.equal(bad.code, 1);
  assert.match(bad.io.stderr.text, /"Shop!" is not a valid app name/);
  const good = await berth(['create', 'shop'], routes);
  assert.equal(good.code, 0);
  assert.match(good.io.stdout.text, /^created shop\n/);
});

test('login verifies the token with /v1/info, then saves it (0600); logout removes it', async () => {
  await withTempDir(async (home) => {
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config') };
    const info = { version: '0.1.0', driver: 'process', baseDomain: 'localhost', http: { host: '0.0.0.0', port: 8080 }, api: { host: '127.0.0.1', port: 7171 }, dataDir: '/d' };
    const routes: Record<string, Handler> = {
      'GET /v1/info': (req, res) =>
        req.headers.authorization === 'Bearer good' ? sendJson(res, 200, info) : sendJson(res, 401, { error: { code: 'AUTH_INVALID', message: 'the bearer token is not valid for this server' } }),
    };
    const api = await startFakeApi(routes);
    try {
      const wrong = testIo({ env, stdin: 'bad\n' });
      assert.equal(await main(['login', api.url], wrong), 1);
      assert.match(wrong.stderr.text, /not valid for this server/);
      const right = testIo({ env, stdin: 'good\n' });
      assert.equal(await main(['login', `${api.url}/`], right), 0, right.stderr.text);
      assert.deepEqual(JSON.parse(await readFile(loginFile(env), 'utf8')), { url: api.url, token: 'good' });
      const out = testIo({ env });
      assert.equal(await main(['logout'], out), 0);
      assert.equal(out.stdout.text, `logged out of ${api.url}: removed ${loginFile(env)}\n`);
    } finally {
      await api.close();
    }
  });
});

test('init writes berth.yaml named from package.json, and refuses to overwrite it without --force', async () => {
  await withTempDir(async (dir) => {
    const app = await appFolder(dir, { 'package.json': '{"name":"@acme/My_Shop","scripts":{"start":"node index.js"}}' });
    const first = testIo({ cwd: app });
    assert.equal(await main(['init'], first), 0, first.stderr.text);
    assert.equal(first.stdout.text, 'wrote berth.yaml for app "my-shop"\nnext: `berth deploy`\n');
    const text = await readFile(join(app, 'berth.yaml'), 'utf8');
    assert.match(text, /^name: my-shop$/m);
    assert.match(text, /node index\.js/);
    // The editor modeline names a schema that is there, next to the file, not somewhere on the network.
    assert.match(text, /^# yaml-language-server: \$schema=\.berth\/berth\.schema\.json$/m);
    const schema = JSON.parse(await readFile(join(app, '.berth', 'berth.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    assert.ok(schema.properties.processes && schema.properties.health);
    const again = testIo({ cwd: app });
    assert.equal(await main(['init'], again), 1);
    assert.equal(again.stderr.text, 'error: berth.yaml already exists\nhint: edit it, or pass --force to replace it with a fresh commented one\n');
    const forced = testIo({ cwd: dir });
    assert.equal(await main(['init', 'hello', '--force', '--name', 'shop'], forced), 0);
    assert.match(await readFile(join(app, 'berth.yaml'), 'utf8'), /^name: shop$/m);
  });
});

test('down with no server running says so and succeeds', async () => {
  await withTempDir(async (home) => {
    const io = testIo({ env: { HOME: home, BERTH_DATA: join(home, 'data'), BERTH_URL: 'http://127.0.0.1:9' } });
    assert.equal(await main(['down'], io), 0, io.stderr.text);
    assert.equal(io.stdout.text, 'no berth server is running at http://127.0.0.1:9; nothing to stop\n');
  });
});

test('down asks the server to stop (apps too unless --keep-apps) and waits until it no longer answers', async () => {
  let up = true;
  const api = await startFakeApi({
    'POST /v1/system/shutdown': (_req, res) => {
      sendJson(res, 202, {});
      setTimeout(() => (up = false), 100);
    },
    'GET /v1/info': (_req, res) => {
      if (up) sendJson(res, 200, {});
      else res.socket?.destroy();
    },
  });
  try {
    await withTempDir(async (home) => {
      const io = testIo({ env: { HOME: home, BERTH_DATA: join(home, 'data'), BERTH_URL: api.url } });
      assert.equal(await main(['down', '--keep-apps'], io), 0, io.stderr.text);
      assert.deepEqual(JSON.parse(api.requests[0].body.toString()), { stopApps: false });
      assert.equal(io.stdout.text, `stopped the berth server at ${api.url}; apps keep running\n`);
    });
  } finally {
    await api.close();
  }
});

test('down waits for the server process to exit: a zombie (exited, not reaped yet) counts as gone', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  // sh starts a short sleep in the background, then becomes a long `sleep`, which never reaps it. The
  // child outlives the exec, so the shell cannot have reaped it first.
  const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [line] = await once(parent.stdout!, 'data');
    const zombie = Number(String(line).trim());
    for (let i = 0; i < 250 && readStat(zombie)?.state !== 'Z'; i++) await sleep(20);
    assert.equal(readStat(zombie)?.state, 'Z');
    process.kill(zombie, 0); // what kill(pid, 0) alone would have taken for a running server
    assert.equal(processAlive(zombie), false);
    assert.equal(processAlive(parent.pid!), true);
  } finally {
    parent.kill();
  }
  assert.equal(processAlive(2 ** 22 + 1), false);
});

test('version prints the CLI version, and the server\'s when it answers', async () => {
  const { code, io } = await berth(['version'], { 'GET /v1/info': (_req, res) => sendJson(res, 200, { version: '0.1.0', driver: 'process' }) });
  assert.equal(code, 0);
  assert.match(io.stdout.text, /^berth \d+\.\d+\.\d+\nserver 0\.1\.0 at http:\/\/127\.0\.0\.1:\d+ \(driver process\)\n$/);
  const alone = testIo({ env: { BERTH_URL: 'http://127.0.0.1:9', HOME: '/nonexistent' } });
  assert.equal(await main(['version'], alone), 0);
  assert.match(alone.stdout.text, /server: cannot reach the berth server at http:\/\/127\.0\.0\.1:9/);
});
