/** base-images.ts: which FROM images berth pulls before a build, and which it leaves to the build. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild } from '../build-plan.ts';
import { baseImages } from './base-images.ts';
import { nodeDockerfile } from './dockerfile.ts';

test('the FROM images of a multi-stage Dockerfile, each once, without its own stages', () => {
  const dockerfile = [
    '# syntax is a comment here',
    'FROM node:24-slim AS deps',
    'RUN npm ci',
    'from node:24-slim as build',
    'COPY --from=deps /app /app',
    'FROM build AS test',
    'FROM 127.0.0.1:5055/team/runtime:1',
    'COPY --from=build /app /app',
  ].join('\n');
  assert.deepEqual(baseImages(dockerfile), ['node:24-slim', '127.0.0.1:5055/team/runtime:1']);
});

test('left to the build: variables, --platform, scratch, earlier stages (case aside), escape directives', () => {
  assert.deepEqual(baseImages('ARG V=24\nFROM node:${V}\nFROM $BASE\n'), []);
  assert.deepEqual(baseImages('FROM --platform=linux/arm64 node:24\n'), []);
  assert.deepEqual(baseImages('FROM scratch\nCOPY x /x\n'), []);
  assert.deepEqual(baseImages('FROM busybox AS Base\nFROM base\n'), ['busybox']);
  assert.deepEqual(baseImages('# escape=`\nFROM node:24\n'), []);
});

test('a stage named like its image is still pulled; continuation lines and comments between them are read', () => {
  assert.deepEqual(baseImages('FROM node AS node\nFROM node\n'), ['node']);
  assert.deepEqual(baseImages('FROM \\\n  127.0.0.1:5055/a/b:1 \\\n  AS x\n# FROM not-this\nRUN true\n'), ['127.0.0.1:5055/a/b:1']);
});

test('the Dockerfile berth generates for Node apps: its one base image', () => {
  const plan = planBuild({ packageJson: { dependencies: { x: '1' }, scripts: { build: 'tsc', start: 'node index.js' } }, files: new Set(['package-lock.json']) });
  const text = nodeDockerfile({ baseImage: 'node:24-slim', plan, hasLockfile: true, hasProductionDependencies: true, labels: { 'berth.owner': 'x' } });
  assert.deepEqual(baseImages(text), ['node:24-slim']);
});
