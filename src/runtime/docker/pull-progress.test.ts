/** pull-progress.ts: the engine's per-layer messages folded into one progress, throttled, and said in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePull, PullTracker } from './pull-progress.ts';

/** Docker Engine 20.10.24 pulling a two-layer image from a local registry, one layer already on the machine. */
const CAPTURED = `{"status":"Pulling from cap/big","id":"1"}
{"status":"Already exists","progressDetail":{},"id":"1eba9f4fe7b8"}
{"status":"Pulling fs layer","progressDetail":{},"id":"26ca38f9e835"}
{"status":"Downloading","progressDetail":{"current":36445,"total":3001125},"progress":"[\\u003e                                                  ]  36.45kB/3.001MB","id":"26ca38f9e835"}
{"status":"Verifying Checksum","progressDetail":{},"id":"26ca38f9e835"}
{"status":"Download complete","progressDetail":{},"id":"26ca38f9e835"}
{"status":"Extracting","progressDetail":{"current":32768,"total":3001125},"progress":"[\\u003e                                                  ]  32.77kB/3.001MB","id":"26ca38f9e835"}
{"status":"Extracting","progressDetail":{"current":3001125,"total":3001125},"progress":"[==================================================\\u003e]  3.001MB/3.001MB","id":"26ca38f9e835"}
{"status":"Pull complete","progressDetail":{},"id":"26ca38f9e835"}
{"status":"Digest: sha256:7f0c84d6ad22f5e272118e0cf5137b65df583f52b1af584a67c20dd7e56fcbc7"}
{"status":"Status: Downloaded newer image for 127.0.0.1:5055/cap/big:1"}`
  .split('\n')
  .map((line) => JSON.parse(line) as Record<string, unknown>);

const REF = '127.0.0.1:5055/cap/big:1';

test('a captured pull: layers counted (the tag of "Pulling from" is none), bytes of the layer it downloads, the digest', () => {
  const tracker = new PullTracker(REF);
  const seen = CAPTURED.map((message) => (tracker.apply(message), tracker.progress()));
  assert.deepEqual(seen[1], { ref: REF, doneBytes: 0, totalBytes: 0, layers: 1, layersDone: 1, done: false }, 'Already exists');
  assert.deepEqual(seen[3], { ref: REF, doneBytes: 36445, totalBytes: 3001125, layers: 2, layersDone: 1, done: false }, 'Downloading');
  assert.deepEqual(seen[6], { ref: REF, doneBytes: 3001125, totalBytes: 3001125, layers: 2, layersDone: 1, done: false }, 'Extracting counts as downloaded, not its own bytes');
  assert.deepEqual(seen[8], { ref: REF, doneBytes: 3001125, totalBytes: 3001125, layers: 2, layersDone: 2, done: false }, 'Pull complete');
  assert.equal(tracker.digest, 'sha256:7f0c84d6ad22f5e272118e0cf5137b65df583f52b1af584a67c20dd7e56fcbc7');
  assert.equal(tracker.progress(true).done, true);
});

test('several layers downloading at once add up; a size the engine never said counts what arrived', () => {
  const tracker = new PullTracker('redis:7');
  tracker.apply({ status: 'Downloading', id: 'a', progressDetail: { current: 10e6, total: 40e6 } });
  tracker.apply({ status: 'Downloading', id: 'b', progressDetail: { current: 33e6, total: 80e6 } });
  tracker.apply({ status: 'Waiting', id: 'c' });
  assert.deepEqual(tracker.progress(), { ref: 'redis:7', doneBytes: 43e6, totalBytes: 120e6, layers: 3, layersDone: 0, done: false });
  assert.equal(describePull(tracker.progress()), 'pulling redis:7  43/120 MB (0/3 layers)');
  tracker.apply({ status: 'Downloading', id: 'c', progressDetail: { current: 5e5 } });
  assert.deepEqual(tracker.progress(), { ref: 'redis:7', doneBytes: 43.5e6, totalBytes: 120.5e6, layers: 3, layersDone: 0, done: false });
});

test('the engine\'s numbers are not trusted: negative, fractional, huge or missing counts are 0', () => {
  const tracker = new PullTracker('x:1');
  tracker.apply({ status: 'Downloading', id: 'a', progressDetail: { current: -5, total: 1.5 } });
  tracker.apply({ status: 'Downloading', id: 'b', progressDetail: { current: 1e300, total: 'many' } });
  tracker.apply({ status: 'Downloading', id: 'c', progressDetail: null });
  tracker.apply({ status: 7, id: 'd' });
  tracker.apply({ status: 'Downloading', id: { nested: true } });
  assert.deepEqual(tracker.progress(), { ref: 'x:1', doneBytes: 0, totalBytes: 0, layers: 4, layersDone: 0, done: false });
});

test('reports are due at most once per interval, the first at once', () => {
  const tracker = new PullTracker('x:1', 250);
  const due = [0, 100, 249, 250, 260, 499, 500, 1000].map((now) => tracker.due(now));
  assert.deepEqual(due, [true, false, false, true, false, false, true, true]);
});

test('one line a person reads', () => {
  const at = (doneBytes: number, totalBytes: number, done = false) => describePull({ ref: 'redis:7', doneBytes, totalBytes, layers: 7, layersDone: 3, done });
  assert.equal(at(0, 0), 'pulling redis:7');
  assert.equal(at(1.2e6, 3.4e6), 'pulling redis:7  1.2/3.4 MB (3/7 layers)');
  assert.equal(at(43e6, 120e6), 'pulling redis:7  43/120 MB (3/7 layers)');
  assert.equal(at(120e6, 120e6, true), 'pulled redis:7 (120 MB)');
  assert.equal(at(0, 0, true), 'pulled redis:7');
});
