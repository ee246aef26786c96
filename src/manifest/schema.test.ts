import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyNode, JsonSchema } from './schema-dsl.ts';
import { keyEntries } from './schema-walk.ts';
import {
  dependencyCycles,
  imageDefaults,
  imageName,
  manifestSchema,
  normalizeAppPath,
  validateManifest,
  type Manifest,
  type ProcessHealthSpec,
  type ProcessSpec,
  type ReleaseSpec,
  type ResourcesSpec,
  type RestartSpec,
  type ServiceHealthSpec,
  type ServiceSpec,
  type UpdateSpec,
} from './schema.ts';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type Restart = { readonly maxRestarts: number; readonly windowMs: number; readonly backoffMs: number; readonly maxBackoffMs: number };
type Update = { readonly intervalMs: number; readonly settleMs: number };

/** The resolved type, spelled out: if the schema changes shape, this stops compiling. */
type Documented = {
  readonly name: string | undefined;
  readonly build: string | undefined;
  readonly dockerfile: string | undefined;
  readonly static: string | undefined;
  readonly image: string | undefined;
  readonly update: Update | undefined;
  readonly release: { readonly command: string; readonly timeoutMs: number } | undefined;
  readonly checks: readonly { readonly name: string; readonly run: string; readonly when: 'build' | 'switch'; readonly timeoutMs: number }[];
  readonly processes: Readonly<
    Record<
      string,
      {
        readonly command: string | undefined;
        readonly replicas: number;
        readonly port: number | undefined;
        readonly resources: { readonly memoryBytes: number | undefined; readonly cpus: number | undefined };
        readonly restart: Restart;
        readonly dependsOn: readonly string[];
        readonly health:
          | { readonly heartbeat: { readonly file: string; readonly maxAgeMs: number } | undefined; readonly command: string | undefined; readonly intervalMs: number }
          | undefined;
        readonly readOnly: boolean;
      }
    >
  >;
  readonly services: Readonly<
    Record<
      string,
      {
        readonly image: string;
        readonly command: string | undefined;
        readonly port: number | undefined;
        readonly env: Readonly<Record<string, string>>;
        readonly volumes: Readonly<Record<string, string>>;
        readonly health: { readonly command: string; readonly intervalMs: number; readonly timeoutMs: number; readonly retries: number; readonly startPeriodMs: number } | undefined;
        readonly urlEnv: string | undefined;
        readonly url: string | undefined;
        readonly update: Update | undefined;
      }
    >
  >;
  readonly health: { readonly path: string; readonly intervalMs: number; readonly timeoutMs: number; readonly healthyAfter: number; readonly deadlineMs: number };
  readonly deploy: {
    readonly strategy: 'blue-green' | 'rolling' | 'canary';
    readonly maxSurge: number;
    readonly maxUnavailable: number;
    readonly canary: {
      readonly steps: readonly { readonly weight: number; readonly durationMs: number }[];
      readonly intervalMs: number;
      readonly minRequests: number;
      readonly maxWaitMs: number;
      readonly sticky: 'cookie' | 'address';
    };
    readonly drainTimeoutMs: number;
    readonly stopTimeoutMs: number;
    readonly standbyMs: number;
    readonly keepReleases: number;
  };
  readonly restart: Restart;
  readonly domains: readonly string[];
  readonly https: {
    readonly redirect: boolean;
    readonly hsts: { readonly maxAgeMs: number; readonly includeSubdomains: boolean; readonly preload: boolean } | undefined;
  };
  readonly env: Readonly<Record<string, string>>;
  readonly policies: readonly { readonly name: string; readonly when: 'deploy' | 'canary_step' | 'promote'; readonly expr: string; readonly message: string }[];
};

test('the Manifest type is the documented shape', () => {
  const same: Equals<Manifest, Documented> = true;
  assert.equal(same, true);
});

const entries = keyEntries(manifestSchema);

test('every key has a doc sentence, and its example and default are valid where they stand', () => {
  for (const { path, node } of entries) {
    assert.match(node.doc, /^\S.*\.$/, `${path}: doc should be a sentence`);
    assert.deepEqual(node.validate(node.example, path).issues, [], `${path}: example is invalid`);
    if (node.default !== undefined) assert.deepEqual(node.validate(node.default, path).issues, [], `${path}: default is invalid`);
  }
  assert.deepEqual(validateManifest(manifestSchema.example).issues, [], 'the full example is valid');
});

test('the schema documents every key the issue asks for', () => {
  assert.deepEqual(
    entries.map((e) => e.path),
    [
      'name', 'build', 'dockerfile', 'static',
      'image', 'update', 'update.interval', 'update.settle',
      'release', 'release.command', 'release.timeout',
      'checks', 'checks[].name', 'checks[].run', 'checks[].when', 'checks[].timeout',
      'processes',
      'processes.web', 'processes.web.command', 'processes.web.replicas', 'processes.web.port',
      'processes.web.resources', 'processes.web.resources.memory', 'processes.web.resources.cpus',
      'processes.web.restart', 'processes.web.restart.max_restarts', 'processes.web.restart.window', 'processes.web.restart.backoff', 'processes.web.restart.max_backoff',
      'processes.web.depends_on', 'processes.web.read_only',
      'processes.<name>', 'processes.<name>.command', 'processes.<name>.replicas', 'processes.<name>.port',
      'processes.<name>.resources', 'processes.<name>.resources.memory', 'processes.<name>.resources.cpus',
      'processes.<name>.restart', 'processes.<name>.restart.max_restarts', 'processes.<name>.restart.window', 'processes.<name>.restart.backoff', 'processes.<name>.restart.max_backoff',
      'processes.<name>.depends_on',
      'processes.<name>.health', 'processes.<name>.health.heartbeat', 'processes.<name>.health.max_age', 'processes.<name>.health.command', 'processes.<name>.health.interval',
      'processes.<name>.read_only',
      'services', 'services.<name>', 'services.<name>.image', 'services.<name>.command', 'services.<name>.port',
      'services.<name>.env', 'services.<name>.env.<NAME>', 'services.<name>.volumes', 'services.<name>.volumes.<volume>',
      'services.<name>.health', 'services.<name>.health.command', 'services.<name>.health.interval', 'services.<name>.health.timeout', 'services.<name>.health.retries', 'services.<name>.health.start_period',
      'services.<name>.url_env', 'services.<name>.url',
      'services.<name>.update', 'services.<name>.update.interval', 'services.<name>.update.settle',
      'health', 'health.path', 'health.interval', 'health.timeout', 'health.healthy_after', 'health.deadline',
      'deploy', 'deploy.strategy', 'deploy.max_surge', 'deploy.max_unavailable',
      'deploy.canary', 'deploy.canary.steps', 'deploy.canary.steps[].weight', 'deploy.canary.steps[].for', 'deploy.canary.interval', 'deploy.canary.min_requests', 'deploy.canary.max_wait', 'deploy.canary.sticky',
      'deploy.drain_timeout', 'deploy.stop_timeout', 'deploy.standby', 'deploy.keep_releases',
      'restart', 'restart.max_restarts', 'restart.window', 'restart.backoff', 'restart.max_backoff',
      'domains', 'https', 'https.redirect', 'https.hsts', 'https.hsts.max_age', 'https.hsts.include_subdomains', 'https.hsts.preload', 'env', 'env.<NAME>', 'policies', 'policies[].name', 'policies[].when', 'policies[].expr', 'policies[].message',
    ],
  );
});

test('the resolved restart policy has the runtime driver\'s field names, top-level and per process', () => {
  const { value } = validateManifest({});
  assert.deepEqual(Object.keys(value.restart), ['maxRestarts', 'windowMs', 'backoffMs', 'maxBackoffMs']);
  assert.deepEqual(Object.keys(value.processes.web.restart), ['maxRestarts', 'windowMs', 'backoffMs', 'maxBackoffMs']);
});

test('the exported spec types are the parts of Manifest', () => {
  const same: [
    Equals<ProcessSpec, Manifest['processes'][string]>,
    Equals<ServiceSpec, Manifest['services'][string]>,
    Equals<ReleaseSpec | undefined, Manifest['release']>,
    Equals<ProcessHealthSpec | undefined, ProcessSpec['health']>,
    Equals<ServiceHealthSpec | undefined, ServiceSpec['health']>,
    Equals<ResourcesSpec, ProcessSpec['resources']>,
    Equals<RestartSpec, ProcessSpec['restart']>,
    Equals<UpdateSpec | undefined, Manifest['update']>,
    Equals<UpdateSpec | undefined, ServiceSpec['update']>,
    Equals<string | undefined, Manifest['image']>,
  ] = [true, true, true, true, true, true, true, true, true, true];
  assert.ok(same.every(Boolean));
});

test('image names: registry, path, tag and digest do not count', () => {
  assert.equal(imageName('redis'), 'redis');
  assert.equal(imageName('docker.io/library/mariadb:11'), 'mariadb');
  assert.equal(imageName('localhost:5000/team/postgres:16-alpine'), 'postgres');
  assert.equal(imageName(`mongo:7@sha256:${'0'.repeat(64)}`), 'mongo');
  assert.deepEqual(imageDefaults('postgis/postgis:16-3.4'), { port: 5432, urlEnv: 'DATABASE_URL' });
  assert.equal(imageDefaults('ghcr.io/x/custom'), undefined);
  // Only the image's own name: a path segment that happens to be `redis` is not the image.
  assert.equal(imageDefaults('redis/redis-stack'), undefined);
  assert.equal(imageDefaults('constructor'), undefined);
});

test('dependencyCycles: each circle once, from the process written first', () => {
  const deps = (entries: Record<string, string[]>) => Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { dependsOn: v }]));
  assert.deepEqual(dependencyCycles(deps({ web: ['api'], api: ['web'] })), [['web', 'api', 'web']]);
  assert.deepEqual(dependencyCycles(deps({ a: ['b'], b: ['c'], c: ['b'] })), [['b', 'c', 'b']]);
  assert.deepEqual(dependencyCycles(deps({ a: ['b', 'c'], b: ['c'], c: [] })), []);
  assert.deepEqual(dependencyCycles(deps({ a: ['a', 'redis'] })), [], 'self references and services are not cycles here');
  assert.deepEqual(dependencyCycles(deps({ a: ['b'], b: ['a', 'c'], c: ['b'] })), [['a', 'b', 'a'], ['b', 'c', 'b']]);
});

test('app paths: normalized, and never out of the app', () => {
  assert.equal(normalizeAppPath('./public/'), 'public');
  assert.equal(normalizeAppPath('./'), '.');
  assert.equal(normalizeAppPath('a//b/./c'), 'a/b/c');
  // Any `..` is refused, even one that stays inside; the fix offers the path without it when there is one.
  assert.deepEqual(validateManifest({ static: 'a/../b' }).issues.map((i) => i.fix), ['write `static: b`']);
  assert.deepEqual(validateManifest({ static: 'a/../../b' }).issues.map((i) => i.fix), ['write `static: public`']);
  assert.equal(validateManifest({ static: 'a..b/c' }).value.static, 'a..b/c');
});

test('JSON Schema: every mapping is closed and every key is described with examples', () => {
  const visit = (schema: JsonSchema, at: string) => {
    if (schema.properties) {
      for (const [key, child] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
        assert.equal(typeof child.description, 'string', `${at}.${key} has no description`);
        assert.ok(Array.isArray(child.examples) && child.examples.length > 0, `${at}.${key} has no examples`);
        visit(child, `${at}.${key}`);
      }
      if (!schema.propertyNames) assert.equal(schema.additionalProperties, false, `${at} is not closed`);
    }
    for (const branch of (schema.anyOf as JsonSchema[] | undefined) ?? []) visit(branch, at);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties as JsonSchema, `${at}.*`);
    if (typeof schema.items === 'object') visit(schema.items as JsonSchema, `${at}[]`);
  };
  visit(manifestSchema.jsonSchema(), '(root)');
});

test('JSON Schema patterns agree with validation', () => {
  const schema = manifestSchema.jsonSchema() as any;
  const matches = (pattern: string, text: string) => new RegExp(pattern, 'u').test(text);
  const namePattern = schema.properties.name.pattern;
  for (const ok of ['hello', 'a', 'my-app-2']) assert.ok(matches(namePattern, ok), ok);
  for (const bad of ['Hello', '-x', 'x-', '2x']) assert.ok(!matches(namePattern, bad), bad);
  const duration = schema.properties.health.properties.interval.pattern;
  for (const ok of ['500ms', '5s', '1.5m', '2h', '1d']) assert.ok(matches(duration, ok), ok);
  for (const bad of ['5', '5 sec', 's', '1w']) assert.ok(!matches(duration, bad), bad);
  const size = schema.properties.processes.additionalProperties.anyOf[1].properties.resources.properties.memory.pattern;
  for (const ok of ['6mb', '512MB', '1.5g', '1024k', '7340032b', '64GB']) assert.ok(matches(size, ok), ok);
  for (const bad of ['512', '1tb', '512 mb', '512MiB', 'lots']) assert.ok(!matches(size, bad), bad);
  const appPath = schema.properties.static.pattern;
  for (const ok of ['public', './public/', '.', 'site/dist', 'a..b']) assert.ok(matches(appPath, ok), ok);
  for (const bad of ['/public', '../site', 'a/../../b', '..', 'dist\\site', ' ']) assert.ok(!matches(appPath, bad), bad);
  const image = schema.properties.services.additionalProperties.anyOf[1].properties.image.pattern;
  assert.equal(schema.properties.image.pattern, image, 'one grammar for every image');
  for (const ok of ['redis', 'redis:7-alpine', 'docker.io/library/mariadb:11', 'localhost:5000/a/b:c', `mongo@sha256:${'a'.repeat(64)}`]) assert.ok(matches(image, ok), ok);
  for (const bad of ['Redis', 'redis 7', 'redis:', ':7', '', 'Redis:7', 'a b', 'a..b', 'Foo/bar', `a@sha256:${'a'.repeat(63)}`, 'a'.repeat(64), 'ex_ample.com/x']) assert.ok(!matches(image, bad), bad);
  const interval = schema.properties.update.anyOf[0].pattern;
  for (const ok of ['5s', '5m']) assert.ok(matches(interval, ok), ok);
  assert.ok(!matches(interval, '5'));
  const hostname = schema.properties.domains.items.pattern;
  for (const ok of ['example.com', '*.example.com', 'a-b.c.example.co.uk']) assert.ok(matches(hostname, ok), ok);
  for (const bad of ['Example.com', 'localhost', '1.2.3.4', 'a..b', '-a.com', 'https://a.com']) assert.ok(!matches(hostname, bad), bad);
});

test('the documented types read as words', () => {
  const typeOf = (path: string): AnyNode => entries.find((e) => e.path === path)!.node;
  assert.equal(typeOf('processes').type, 'mapping of process names to commands or mappings');
  assert.equal(typeOf('domains').type, 'list of hostnames');
  assert.equal(typeOf('health.interval').allowed, '100ms to 60s');
});
