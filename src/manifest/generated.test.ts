import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATE_COMMAND, generatedFiles } from './generate.ts';

const root = join(import.meta.dirname, '..', '..');

for (const { path, content } of generatedFiles()) {
  test(`${path} is up to date with src/manifest/schema.ts`, () => {
    let committed: string;
    try {
      committed = readFileSync(join(root, path), 'utf8');
    } catch {
      assert.fail(`${path} is missing: run \`${GENERATE_COMMAND}\``);
    }
    assert.ok(committed === content, `${path} is out of date with the manifest schema: run \`${GENERATE_COMMAND}\` and commit the result`);
  });
}

test('generating twice gives the same bytes', () => {
  assert.deepEqual(generatedFiles(), generatedFiles());
});
