/**
 * API version negotiation: the choice itself, then the real client against a scripted engine on a Unix
 * socket that answers GET /version with chosen versions and, as dockerd does, refuses a versioned path
 * outside its range with 400. Last, the same against the real engine when there is one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerSuite } from '../../../test/support/docker.ts';
import { BerthError } from '../../errors/catalogue.ts';
import { chooseRuntime } from '../select.ts';
import { createDockerEngine, EngineError, EngineTooOldError } from './engine-http.ts';
import { chooseApiVersion, NEWEST_API_VERSION, OLDEST_API_VERSION, type EngineApiRange } from './engine-version.ts';

const ENGINE_20_10 = { ApiVersion: '1.41', MinAPIVersion: '1.12' };
const ENGINE_29 = { ApiVersion: '1.52', MinAPIVersion: '1.44' };
const TOO_OLD = { ApiVersion: '1.30', MinAPIVersion: '1.12' };

test('the version spoken is the newest both know, never below the engine floor, and nothing under 1.41', () => {
  assert.equal(OLDEST_API_VERSION, '1.41');
  assert.equal(NEWEST_API_VERSION, '1.47');
  assert.deepEqual(chooseApiVersion(ENGINE_20_10), { version: '1.41' });
  assert.deepEqual(chooseApiVersion(ENGINE_29), { version: '1.47' });
  assert.deepEqual(chooseApiVersion({ ApiVersion: '1.43', MinAPIVersion: '1.12' }), { version: '1.43' }); // Docker 24
  assert.deepEqual(chooseApiVersion({ ApiVersion: '1.47', MinAPIVersion: '1.24' }), { version: '1.47' }); // Docker 27
  assert.deepEqual(chooseApiVersion({ ApiVersion: '1.60', MinAPIVersion: '1.50' }), { version: '1.50' }); // a floor above berth's newest
  assert.deepEqual(chooseApiVersion(TOO_OLD), { tooOld: '1.30' });
  assert.deepEqual(chooseApiVersion({ ApiVersion: '1.9' }), { tooOld: '1.9' }); // compared as numbers, not text
  assert.deepEqual(chooseApiVersion({}), { version: '1.41' }); // says nothing: what berth always spoke
});

interface Range {
  ApiVersion: string;
  MinAPIVersion: string;
}

/** A scripted engine: its version range can change under a running client, as an upgrade does. */
async function scriptedEngine(dir: string, name: string, initial: Range) {
  const state = { range: initial, requests: [] as string[], bodies: [] as unknown[] };
  const numeric = (v: string) => Number(v.split('.')[0]) * 1000 + Number(v.split('.')[1]);
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    state.requests.push(`${req.method} ${url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (chunks.length > 0) state.bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      const { ApiVersion, MinAPIVersion } = state.range;
      const versionBody = { Version: `engine-${ApiVersion}`, ApiVersion, MinAPIVersion, Os: 'linux', Arch: 'amd64', KernelVersion: '6.1' };
      if (url === '/_ping') {
        res.writeHead(200, { 'content-type': 'text/plain', 'api-version': ApiVersion });
        return res.end('OK');
      }
      if (url === '/version') return json(res, 200, versionBody);
      const [, version, path] = /^\/v(\d+\.\d+)(\/[^?]*)/.exec(url) ?? [];
      if (!version) return json(res, 404, { message: 'page not found' });
      if (numeric(version) < numeric(MinAPIVersion)) {
        return json(res, 400, { message: `client version ${version} is too old. Minimum supported API version is ${MinAPIVersion}, please upgrade your client to a newer version` });
      }
      if (numeric(version) > numeric(ApiVersion)) return json(res, 400, { message: `client version ${version} is too new. Maximum supported API version is ${ApiVersion}` });
      if (path === '/version') return json(res, 200, versionBody);
      if (path === '/containers/json') return json(res, 200, []);
      if (path === '/networks/create') return json(res, 201, { Id: 'net1' });
      if (path === '/containers/c1/wait') return json(res, 200, { StatusCode: 3 });
      json(res, 404, { message: `no route ${path}` });
    });
  });
  const socketPath = join(dir, `${name}.sock`);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    state,
    socketPath,
    engine: createDockerEngine({ socketPath, timeoutMs: 2_000 }),
    /** Requests whose path was not a negotiation: `GET /v1.47/containers/json`. */
    calls: () => state.requests.filter((r) => r !== 'GET /version' && r !== 'GET /_ping'),
    negotiations: () => state.requests.filter((r) => r === 'GET /version').length,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the client negotiates with a scripted engine', () => {
  let dir = '';
  const engines: { close(): Promise<unknown> }[] = [];
  const engineAt = async (name: string, range: Range) => {
    const engine = await scriptedEngine(dir, name, range);
    engines.push(engine);
    return engine;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-engine-version-'));
  });
  after(async () => {
    for (const engine of engines) await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('Engine 20.10 (1.41, min 1.12): every call goes to /v1.41 and the version is asked once', async () => {
    const e = await engineAt('e2010', ENGINE_20_10);
    await e.engine.listContainers({ all: true });
    await e.engine.listContainers({});
    await e.engine.createNetwork('n', { a: 'b' });
    assert.equal(await e.engine.apiVersion(), '1.41');
    assert.deepEqual(e.calls(), ['GET /v1.41/containers/json?all=1', 'GET /v1.41/containers/json?all=0', 'POST /v1.41/networks/create']);
    assert.equal(e.state.requests[0], 'GET /version', 'negotiated before the first call');
    assert.equal(e.negotiations(), 1);
    assert.equal((e.state.bodies[0] as { CheckDuplicate?: boolean }).CheckDuplicate, true, 'below 1.44 the engine needs CheckDuplicate');
  });

  test('Engine 29 (1.52, min 1.44): calls and streams go to /v1.47, and CheckDuplicate is left out', async () => {
    const e = await engineAt('e29', ENGINE_29);
    assert.equal((await e.engine.version()).ApiVersion, '1.52');
    assert.equal(await e.engine.waitContainer('c1'), 3); // a stream, on a connection of its own
    await e.engine.createNetwork('n', {});
    assert.deepEqual(e.calls(), ['GET /v1.47/version', 'POST /v1.47/containers/c1/wait', 'POST /v1.47/networks/create']);
    assert.equal(e.negotiations(), 1);
    assert.equal('CheckDuplicate' in (e.state.bodies[0] as object), false);
  });

  test('concurrent first calls share one negotiation', async () => {
    const e = await engineAt('concurrent', ENGINE_29);
    await Promise.all([e.engine.listContainers({}), e.engine.listContainers({}), e.engine.apiVersion()]);
    assert.equal(e.negotiations(), 1);
    assert.deepEqual(e.calls(), ['GET /v1.47/containers/json?all=0', 'GET /v1.47/containers/json?all=0']);
  });

  test('an engine older than 1.41 is refused without a versioned call; ping still sees it; an upgrade is noticed', async () => {
    const e = await engineAt('old', TOO_OLD);
    assert.equal(await e.engine.ping(), true);
    const tooOld = (error: unknown) =>
      error instanceof EngineTooOldError &&
      error instanceof EngineError &&
      error.apiVersion === '1.30' &&
      error.message === 'Docker Engine API 1.30 is older than the 1.41 berth needs: upgrade Docker';
    await assert.rejects(e.engine.listContainers({}), tooOld);
    await assert.rejects(e.engine.apiVersion(), tooOld);
    assert.deepEqual(e.calls(), []);
    e.state.range = ENGINE_20_10; // upgraded: a refusal is not kept, so the next call asks again
    assert.deepEqual(await e.engine.listContainers({}), []);
    assert.deepEqual(e.calls(), ['GET /v1.41/containers/json?all=0']);
  });

  test('an engine upgraded under a running client refuses the kept version once, then is asked again', async () => {
    const e = await engineAt('upgraded', ENGINE_20_10);
    await e.engine.listContainers({});
    e.state.range = ENGINE_29;
    await assert.rejects(e.engine.listContainers({}), (error) => error instanceof EngineError && error.status === 400 && /1\.41 is too old/.test(error.message));
    await e.engine.listContainers({});
    assert.equal(await e.engine.apiVersion(), '1.47');
    assert.deepEqual(e.calls(), ['GET /v1.41/containers/json?all=0', 'GET /v1.41/containers/json?all=0', 'GET /v1.47/containers/json?all=0']);
    assert.equal(e.negotiations(), 2);
  });

  test('the runtime choice reports the negotiated version, and turns down an engine that is too old', async () => {
    const current = await engineAt('choice29', ENGINE_29);
    const chosen = await chooseRuntime('auto', current.engine, current.socketPath);
    assert.equal(chosen.driver, 'docker');
    assert.equal(chosen.engine?.ApiVersion, '1.52');
    assert.equal(chosen.engineApiVersion, '1.47');
    const remote = await chooseRuntime('auto', current.engine, current.socketPath, 'tcp://10.0.0.5:2376');
    assert.match(remote.reason, /^a Docker Engine answers at .* \(DOCKER_HOST=tcp:\/\/10\.0\.0\.5:2376 is not used: berth reaches a local engine over its Unix socket\)$/);

    const old = await engineAt('choiceOld', TOO_OLD);
    const fallback = await chooseRuntime('auto', old.engine, old.socketPath);
    assert.equal(fallback.driver, 'process');
    assert.match(fallback.reason, /is too old \(Docker Engine API 1\.30 is older than the 1\.41 berth needs: upgrade Docker\); apps run as host processes/);
    await assert.rejects(
      chooseRuntime('docker', old.engine, old.socketPath),
      (error) => error instanceof BerthError && error.code === 'CONFIG_INVALID' && /--runtime: docker, but Docker Engine API 1\.30 is older than the 1\.41 berth needs: upgrade Docker/.test(error.message),
    );
  });
});

const docker = await dockerSuite();

describe('the client negotiates with the real engine', { skip: docker.skip }, () => {
  test('it speaks the engine newest version, capped at berth newest', async () => {
    const engine = createDockerEngine();
    const answer: EngineApiRange = await engine.version(); // with MinAPIVersion, which the port's type leaves out
    const expected = chooseApiVersion(answer);
    assert.ok('version' in expected, `the engine speaks API ${String(answer.ApiVersion)}, older than berth needs`);
    assert.equal(await engine.apiVersion(), expected.version);
    assert.ok(Array.isArray(await engine.listContainers({ filters: { label: ['berth.test=negotiation'] } })));
  });
});
