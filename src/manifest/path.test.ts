import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, joinIndex, joinKey, lastSegment, parsePath } from './path.ts';

test('paths read like the file and parse back to their segments', () => {
  const cases: [(string | number)[], string][] = [
    [[], ''],
    [['name'], 'name'],
    [['processes', 'web', 'replicas'], 'processes.web.replicas'],
    [['domains', 1], 'domains[1]'],
    [['env', 'MY-VAR'], 'env.MY-VAR'],
    [['env', 'MY.VAR'], 'env["MY.VAR"]'],
    [['env', 'a "b"', 'c'], 'env["a \\"b\\""].c'],
    [['x y'], '["x y"]'],
    [['list', 0, 'key'], 'list[0].key'],
  ];
  for (const [segments, path] of cases) {
    assert.equal(formatPath(segments), path);
    assert.deepEqual(parsePath(path), segments);
  }
  assert.equal(joinKey('', 'name'), 'name');
  assert.equal(joinIndex('domains', 2), 'domains[2]');
  assert.equal(lastSegment('domains[2]'), 2);
  assert.equal(parsePath('.bad'), undefined);
});
