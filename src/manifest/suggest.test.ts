import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from './suggest.ts';

test('edit distance counts swapped neighbours as one edit', () => {
  assert.equal(editDistance('helth', 'health'), 1);
  assert.equal(editDistance('nmae', 'name'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});

test('closest: spelling variants, then near misses, and nothing for unrelated words', () => {
  const keys = ['name', 'build', 'processes', 'health', 'deploy', 'restart', 'domains', 'env', 'healthy_after'];
  assert.equal(closest('helth', keys), 'health');
  assert.equal(closest('proccesses', keys), 'processes');
  assert.equal(closest('healthyAfter', keys), 'healthy_after');
  assert.equal(closest('DOMAINS', keys), 'domains');
  assert.equal(closest('domain', keys), 'domains');
  assert.equal(closest('zzz', keys), undefined);
  assert.equal(closest('ev', keys), 'env');
  assert.equal(closest('x', keys), undefined);
});
