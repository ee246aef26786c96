import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMasker } from './mask-secrets.ts';

test('createMasker masks every occurrence, longest secret first, and ignores short values', () => {
  const mask = createMasker(['hunter22', 'hunter22-extended', 'ab', '']);
  assert.equal(mask('token=hunter22 again hunter22'), 'token=*** again ***');
  assert.equal(mask('x=hunter22-extended'), 'x=***');
  assert.equal(mask('ab stays'), 'ab stays');
  assert.equal(createMasker([])('plain'), 'plain');
});
