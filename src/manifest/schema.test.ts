import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyNode, JsonSchema } from './schema-dsl.ts';
import { keyEntries } from './schema-walk.ts';
import { manifestSchema, validateManifest, type Manifest } from './schema.ts';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The resolved type, spelled out: if the schema changes shape, this stops compiling. */
type Documented = {
  readonly name: string | undefined;
  readonly build: string | undefined;
  readonly processes: Readonly<Record<string, { readonly command: string | undefined; readonly replicas: number }>>;
  readonly health: { readonly path: string; readonly intervalMs: number; readonly timeoutMs: number; readonly healthyAfter: number; readonly deadlineMs: number };
  readonly deploy: { readonly strategy: 'blue-green'; readonly drainTimeoutMs: number; readonly stopTimeoutMs: number; readonly standbyMs: number; readonly keepReleases: number };
  readonly restart: { readonly maxRestarts: number; readonly windowMs: number; readonly backoffMs: number; readonly maxBackoffMs: number };
  readonly domains: readonly string[];
  readonly env: Readonly<Record<string, string>>;
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
      'name', 'build',
      'processes', 'processes.web', 'processes.web.command', 'processes.web.replicas', 'processes.<name>', 'processes.<name>.command', 'processes.<name>.replicas',
      'health', 'health.path', 'health.interval', 'health.timeout', 'health.healthy_after', 'health.deadline',
      'deploy', 'deploy.strategy', 'deploy.drain_timeout', 'deploy.stop_timeout', 'deploy.standby', 'deploy.keep_releases',
      'restart', 'restart.max_restarts', 'restart.window', 'restart.backoff', 'restart.max_backoff',
      'domains', 'env', 'env.<NAME>',
    ],
  );
});

test('the resolved restart policy has the runtime driver\'s field names', () => {
  const { value } = validateManifest({});
  assert.deepEqual(Object.keys(value.restart), ['maxRestarts', 'windowMs', 'backoffMs', 'maxBackoffMs']);
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
