import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild, stepFailure, type PackageJson } from './build-plan.ts';

test('planBuild: steps and inferred start command for typical source trees', () => {
  const cases: { name: string; packageJson: PackageJson | null; files: string[]; command: string | undefined; steps: string[]; start: string | undefined }[] = [
    { name: 'plain server.js', packageJson: null, files: ['server.js'], command: undefined, steps: [], start: 'node server.js' },
    { name: 'index.js only', packageJson: null, files: ['index.js'], command: undefined, steps: [], start: 'node index.js' },
    { name: 'nothing to start', packageJson: null, files: ['README'], command: undefined, steps: [], start: undefined },
    {
      name: 'lockfile, build script, dev deps',
      packageJson: { dependencies: { a: '1' }, devDependencies: { b: '1' }, scripts: { build: 'tsc', start: 'node dist/main.js' } },
      files: ['package.json', 'package-lock.json', 'server.js'],
      command: undefined,
      steps: ['npm ci --no-audit --no-fund', 'npm run build', 'npm prune --omit=dev --no-audit --no-fund'],
      start: 'node dist/main.js',
    },
    {
      name: 'no lockfile, manifest command wins over the build script, no dev deps',
      packageJson: { dependencies: { a: '1' }, scripts: { build: 'tsc' } },
      files: ['package.json', 'index.js'],
      command: 'make all',
      steps: ['npm install --no-audit --no-fund', 'make all'],
      start: 'node index.js',
    },
    {
      name: 'no dependencies: no npm install',
      packageJson: { scripts: { build: 'echo hi' } },
      files: ['package.json'],
      command: undefined,
      steps: ['npm run build'],
      start: undefined,
    },
  ];
  for (const c of cases) {
    const plan = planBuild({ packageJson: c.packageJson, files: new Set(c.files), command: c.command });
    assert.deepEqual(plan.steps.map((s) => s.command), c.steps, c.name);
    assert.equal(plan.inferredCommand, c.start, c.name);
  }
});

test('stepFailure names the command and how it ended', () => {
  assert.equal(stepFailure({ kind: 'install', command: 'npm ci' }, { code: 1, signal: null }), '`npm ci` exited with code 1');
  assert.equal(stepFailure({ kind: 'build', command: 'make' }, { code: null, signal: 'SIGKILL' }), '`make` was killed by SIGKILL');
});
