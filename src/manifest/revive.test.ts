import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from './load.ts';
import { reviveManifest } from './revive.ts';
import type { Manifest } from './schema.ts';

const TEXT = `
processes:
  web: node server.js
  valueof: node worker.js
services:
  constructor:
    image: redis:7
    env:
      toString: a
    volumes:
      data: /data
env:
  __proto__: x
  hasOwnProperty: y
`;

test('a manifest back from JSON (the store) has its records without prototype again, deep-frozen', () => {
  const parsed = parseManifest(TEXT);
  const back = reviveManifest(JSON.parse(JSON.stringify(parsed)) as Manifest);
  assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(parsed)));
  // Through a string, as code reads user names: TypeScript would take `.constructor` for Object's.
  const name: string = 'constructor';
  const records = [back.processes, back.services, back.env, back.services[name].env, back.services[name].volumes];
  for (const record of records) assert.equal(Object.getPrototypeOf(record), null);
  // What JSON.parse gives would answer these through Object.prototype.
  assert.equal(back.services.toString, undefined);
  assert.equal(back.processes.hasOwnProperty, undefined);
  assert.equal(back.env.__proto__, 'x');
  assert.ok(Object.isFrozen(back) && Object.isFrozen(back.services[name]) && Object.isFrozen(back.services[name].env));
});

test('a manifest recorded by an older berth, without services or env, is revived as it is', () => {
  const old = { processes: { web: { command: 'node a.js', replicas: 1 } }, health: { path: '/' } } as unknown as Manifest;
  const back = reviveManifest(JSON.parse(JSON.stringify(old)) as Manifest);
  assert.equal(back.services, undefined);
  assert.equal(back.env, undefined);
  assert.equal(Object.getPrototypeOf(back.processes), null);
  assert.equal(back.processes.web.command, 'node a.js');
});
