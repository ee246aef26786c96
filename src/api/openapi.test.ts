import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wireIssues } from '../model/wire-check.ts';
import { ApiError } from '../model/wire.ts';
import type { Operation } from './input-spec.ts';
import { appArchive, sseEvents, startApi, type InjectReply, type TestApi } from './inject.test-support.ts';
import { GENERATE_OPENAPI_COMMAND, OPENAPI_FILE, openApiDocument, openApiPath, openApiText } from './openapi.ts';
import { operations, type OperationName } from './operations.ts';
import { responses, type Responses } from './responses.ts';
import { createRouter } from './server.ts';

/** The OpenAPI document cannot drift: not from docs/, not from the router, not from what the API answers. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const root = join(import.meta.dirname, '../..');
const key = (operation: Pick<Operation, 'method' | 'path'>) => `${operation.method} ${openApiPath(operation.path)}`;

test(`${OPENAPI_FILE} is what the code generates, and what the daemon serves`, async () => {
  // Compared whole, not printed whole: the message says what to do, `git diff` shows the change.
  assert.ok(readFileSync(join(root, OPENAPI_FILE), 'utf8') === openApiText(), `${OPENAPI_FILE} is out of date: run \`${GENERATE_OPENAPI_COMMAND}\``);
  const served = await api.call('GET', '/v1/openapi.json');
  assert.equal(served.status, 200);
  assert.deepEqual(served.body, openApiDocument());
  assert.equal((await api.call('GET', '/v1/openapi.json', { headers: { authorization: '' } })).status, 401, 'behind the token like every route');
});

test('every route of the router is in the document, and every operation in it is routed', () => {
  const document = openApiDocument();
  const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`));
  const routed = createRouter(api.deps).operations().map(key);
  assert.deepEqual([...routed].sort(), [...documented].sort());
  assert.deepEqual(Object.values(operations).map(key).sort(), [...documented].sort());
});

/** The answer against the document: its status must be listed, its JSON or each event of its stream fit the schema. */
function issuesOf(name: OperationName, reply: InjectReply): string[] {
  const spec = (responses[name] as Responses)[reply.status as 200];
  if (!spec) return reply.status >= 400 ? wireIssues(ApiError, reply.body) : [`${name}: status ${reply.status} is not in the document`];
  if (/^text\/event-stream/.test(reply.headers['content-type'] ?? '')) {
    const events = sseEvents(reply.text);
    if (events.length === 0) return [`${name}: an empty stream proves nothing`];
    return events.flatMap(({ event, data }) => {
      const schema = spec.events?.[event];
      if (!schema) return [`${name}: event ${event} is not in the document`];
      // A deployment's stream names each event by its type.
      const named = name === 'deploymentEvents' && data.type !== event ? [`${name}: event ${event} carries a ${data.type}`] : [];
      return [...named, ...wireIssues(schema, data, `${name} event ${event}`)];
    });
  }
  // A text answer (the Prometheus scrape): the content type the document names, and a body.
  if (spec.text) return reply.headers['content-type']?.startsWith(spec.text) && reply.text.length > 0 ? [] : [`${name}: not the ${spec.text} the document says`];
  return spec.json ? wireIssues(spec.json, reply.body, name) : [`${name}: JSON where the document says an event stream`];
}

test('real answers of the API fit the document, for every operation, successes and errors', async () => {
  const seen = new Set<OperationName>();
  const call = async (name: OperationName, method: string, url: string, options: Parameters<TestApi['call']>[2] = {}) => {
    const reply = await api.call(method, url, options);
    assert.deepEqual(issuesOf(name, reply), [], `${method} ${url} answered ${reply.status}: ${reply.text.slice(0, 500)}`);
    seen.add(name);
    return reply;
  };
  const manifest = [
    'name: app',
    'release: node migrate.js',
    'health:\n  path: /health\n  interval: 100ms\n  healthy_after: 1',
    'deploy:\n  drain_timeout: 100ms',
    'processes:\n  web: {}\n  worker: node worker.js',
    '',
  ].join('\n');
  const behaviour = { version: 'one', buildLog: ['npm ci', 'built'], logs: ['booting', 'ready'], oneOff: { 'node migrate.js': { output: ['migrated'] }, 'node seed.js': { output: ['seeded'], exitCode: 3 } } };

  await call('info', 'GET', '/v1/info');
  await call('createApp', 'POST', '/v1/apps', { body: { name: 'empty' } });
  await call('createApp', 'POST', '/v1/apps', { body: { name: 'empty' } });
  await call('patchEnv', 'PATCH', '/v1/apps/empty/env', { body: { set: { EARLY: '1' } } });

  const deployed = await call('deploy', 'POST', '/v1/apps/alpha/deploys', { body: appArchive(manifest, behaviour), headers: { 'content-type': 'application/gzip' } });
  await api.kit.deployer.idle('alpha');
  const id = deployed.body.deployment.id;
  await call('getDeployment', 'GET', `/v1/deployments/${id}`);
  await call('patchEnv', 'PATCH', '/v1/apps/alpha/env', { body: { set: { GREETING: 'hi' } } });
  await api.kit.deployer.idle('alpha');
  await call('scale', 'POST', '/v1/apps/alpha/scale', { body: { processes: { web: 2 } } });
  await api.kit.deployer.idle('alpha');
  await call('rollback', 'POST', '/v1/apps/alpha/rollback', { body: {} });
  await api.kit.deployer.idle('alpha');
  const failed = await api.deploy('broken', manifest, { build: 'fail', buildLog: ['npm ERR! missing script'] });

  await call('setChaos', 'PUT', '/v1/apps/alpha/chaos', { body: { mode: 'slow', latencyMs: 5, release: 'v1', forMs: 60_000 } });
  await call('setChaos', 'PUT', '/v1/apps/alpha/chaos', { body: { mode: 'error', status: 418, ratio: 0.5 } });
  await call('getChaos', 'GET', '/v1/apps/alpha/chaos');
  await call('listApps', 'GET', '/v1/apps');
  await call('getApp', 'GET', '/v1/apps/alpha');
  await call('stopChaos', 'DELETE', '/v1/apps/alpha/chaos');
  await call('getChaos', 'GET', '/v1/apps/nope/chaos');
  // No canary runs here: both answer 409 NO_CANARY_RUNNING (test/e2e/canary.test.ts has their successes).
  await call('promote', 'POST', '/v1/apps/alpha/promote', { body: { by: 'openapi test' } });
  await call('abort', 'POST', '/v1/apps/alpha/abort', { body: {} });
  await call('listDeployments', 'GET', '/v1/apps/alpha/deployments');
  await call('listDeployments', 'GET', '/v1/apps/broken/deployments');
  await call('deploymentEvents', 'GET', `/v1/deployments/${id}/events`, { closeWhen: (text) => text.includes('event: deploy.switched') });
  await call('deploymentEvents', 'GET', `/v1/deployments/${failed.body.deployment.id}/events`);
  await call('appEvents', 'GET', '/v1/apps/alpha/events?limit=1000');
  await call('listReleases', 'GET', '/v1/apps/alpha/releases');
  await call('appHealth', 'GET', '/v1/apps/alpha/health?limit=5');
  await call('getEnv', 'GET', '/v1/apps/alpha/env?reveal=1');
  await call('logs', 'GET', '/v1/apps/alpha/logs');
  await call('logs', 'GET', '/v1/apps/alpha/logs?follow=1', { closeWhen: (text) => text.includes('"ready"') });
  await call('logs', 'GET', '/v1/apps/alpha/logs?grep=x'.padEnd(300, 'x'));
  // The access log as the proxy writes it (src/dataplane/access-log.ts), read back through the API.
  mkdirSync(join(api.kit.dir, 'logs', 'access'), { recursive: true });
  appendFileSync(join(api.kit.dir, 'logs', 'access', 'access.log'), JSON.stringify({ time: new Date().toISOString(), ip: '127.0.0.1', method: 'GET', path: '/', status: 200, bytes: 2, ms: 1.5, host: 'alpha.localhost', app: 'alpha', release: 'rel_x', instance: 'ins_x', id: 'req-1', proto: 'h1', tls: false }) + '\n');
  await call('accessLog', 'GET', '/v1/apps/alpha/access-log?status=2xx&path=/');
  await call('accessLog', 'GET', '/v1/apps/alpha/access-log?follow=1', { closeWhen: (text) => text.includes('req-1') });
  await call('accessLog', 'GET', '/v1/apps/alpha/access-log?status=6xx');
  await call('run', 'POST', '/v1/apps/alpha/run', { body: { command: 'node seed.js' } });
  await call('appEvents', 'GET', '/v1/apps/alpha/events?limit=1000');
  await call('listEvents', 'GET', '/v1/events?limit=1000');
  await call('listEvents', 'GET', '/v1/events?app=alpha&follow=1', { closeWhen: (text) => text.includes('event: deploy.succeeded') });
  await call('audit', 'GET', '/v1/audit?since=1h');
  // An image deploy: the fake runtime has no engine, so the answer is the refusal (the success is the docker e2e's).
  await call('deployImage', 'POST', '/v1/apps/alpha/deploys/image', { body: { image: 'ghcr.io/acme/web:1.4' } });
  // Registry logins: their successes against a real registry are checked in registries.test.ts.
  await call('listRegistries', 'GET', '/v1/registries');
  await call('loginRegistry', 'PUT', '/v1/registries/not%20a%20host', { body: { username: 'u', password: 'p' } });
  await call('logoutRegistry', 'DELETE', '/v1/registries/ghcr.io');
  // Certificates: their successes, with real certificates, are checked in certs.test.ts.
  await call('listCerts', 'GET', '/v1/certs');
  await call('addCert', 'POST', '/v1/certs', { body: { domain: 'shop.example.com', cert: 'not a certificate', key: 'not a key' } });
  await call('getCert', 'GET', '/v1/certs/shop.example.com');
  await call('renewCert', 'POST', '/v1/certs/shop.example.com/renew');
  await call('removeCert', 'DELETE', '/v1/certs/shop.example.com');
  // Notifiers: deliveries to real receivers are checked in src/notify/ and src/cli/commands/notify.test.ts.
  await call('addNotifier', 'POST', '/v1/notifiers', { body: { name: 'ops', kind: 'webhook', url: 'http://127.0.0.1:1/hook', events: ['deploy.failed'] } });
  await call('addNotifier', 'POST', '/v1/notifiers', { body: { name: 'ops', kind: 'webhook', url: 'ftp://127.0.0.1/hook' } });
  await call('listNotifiers', 'GET', '/v1/notifiers');
  await call('testNotifier', 'POST', '/v1/notifiers/ops/test');
  await call('listDeliveries', 'GET', '/v1/deliveries?notifier=ops');
  await call('removeNotifier', 'DELETE', '/v1/notifiers/ops');
  await call('doctor', 'GET', '/v1/doctor');
  await call('metrics', 'GET', '/v1/metrics');
  await call('appMetrics', 'GET', '/v1/apps/alpha/metrics?window=5m');
  await call('appMetrics', 'GET', '/v1/apps/alpha/metrics?window=2m');
  await call('listPolicies', 'GET', '/v1/policies?app=alpha');
  await call('checkPolicies', 'GET', '/v1/apps/alpha/policy-check');
  await call('openapi', 'GET', '/v1/openapi.json');

  // Errors: the catalogue's shape, whatever the endpoint.
  await call('getApp', 'GET', '/v1/apps/nope');
  await call('createApp', 'POST', '/v1/apps', { body: { name: 'x', nmae: 'typo' } });
  await call('getDeployment', 'GET', '/v1/deployments/dep_nope');

  await call('destroyApp', 'DELETE', '/v1/apps/empty');
  await call('shutdown', 'POST', '/v1/system/shutdown', { body: { stopApps: false } });
  assert.deepEqual([...seen].sort(), (Object.keys(operations) as OperationName[]).sort(), 'every operation answered at least once');
});
