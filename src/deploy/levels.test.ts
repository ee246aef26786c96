import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../manifest/load.ts';
import { processLevels } from './levels.ts';

test('processes start after the processes they depend on; services do not count here', () => {
  const manifest = parseManifest(`
processes:
  web:
    command: node web.js
    depends_on: [api]
  api:
    command: node api.js
    depends_on: [redis]
  worker:
    command: node worker.js
    depends_on: [redis]
services:
  redis: redis:7
`);
  assert.deepEqual(processLevels(manifest), [['api', 'worker'], ['web']]);
});

test('without dependencies everything is one level', () => {
  assert.deepEqual(processLevels(parseManifest('')), [['web']]);
});
