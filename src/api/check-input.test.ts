import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { checkBody, checkNoBody, checkQuery } from './check-input.ts';
import { operations } from './operations.ts';

/** The issues of the REQUEST_INVALID that `run` throws. */
function issuesOf(run: () => unknown): Issue[] {
  try {
    run();
  } catch (error) {
    assert.ok(isBerthError(error), String(error));
    assert.equal(error.code, 'REQUEST_INVALID');
    return (error.details as { issues: Issue[] }).issues;
  }
  assert.fail('expected REQUEST_INVALID');
}

const body = (text: string) => JSON.parse(text) as unknown;

test('unknown body fields are refused with their name and a suggestion', () => {
  const [issue] = issuesOf(() => checkBody(operations.rollback.body, body('{"relase":"v1"}')));
  assert.deepEqual(issue, { path: 'relase', message: 'is not a field of this endpoint', fix: 'did you mean "release"?' });
  const [other] = issuesOf(() => checkBody(operations.shutdown.body, body('{"force":true}')));
  assert.equal(other.fix, 'the fields of this endpoint: stopApps');
});

test('wrong types name the field and what came, never "[object Object]" and never a string value', () => {
  const [stop] = issuesOf(() => checkBody(operations.shutdown.body, body('{"stopApps":"yes"}')));
  assert.deepEqual([stop.path, stop.message], ['stopApps', 'must be true or false, not a string']);
  const [value] = issuesOf(() => checkBody(operations.patchEnv.body, body('{"set":{"A":{"toString":1}}}')));
  assert.deepEqual([value.path, value.message], ['set.A', 'must be a string, not an object']);
  assert.equal(value.fix, '"A": "value"');
  const [number] = issuesOf(() => checkBody(operations.patchEnv.body, body('{"set":{"PORT_NUMBER":8080}}')));
  assert.equal(number.fix, '"PORT_NUMBER": "8080"', 'a number meant as text is shown quoted');
  const [list] = issuesOf(() => checkBody(operations.patchEnv.body, body('{"unset":"A"}')));
  assert.deepEqual([list.path, list.message], ['unset', 'must be a list, not a string']);
  for (const issue of [stop, value, number, list]) assert.doesNotMatch(JSON.stringify(issue), /object Object|yes/);
});

test('prototype keys are plain keys: a Map holds them, nothing is inherited', () => {
  const checked = checkBody(operations.patchEnv.body, body('{"set":{"__proto__":"x","toString":"y","constructor":"z"}}'));
  assert.equal(Object.getPrototypeOf(checked), null);
  assert.ok(checked.set instanceof Map);
  assert.deepEqual([...checked.set], [['__proto__', 'x'], ['toString', 'y'], ['constructor', 'z']]);
  const scale = checkBody(operations.scale.body, body('{"processes":{"toString":1}}'));
  assert.deepEqual([...scale.processes!], [['toString', 1]], 'the spec takes any name; the formation check then refuses it');
  // A top-level `__proto__` is an unknown field like any other.
  assert.equal(issuesOf(() => checkBody(operations.scale.body, body('{"__proto__":{"reset":true}}')))[0].path, '__proto__');
});

test('numbers: whole, finite, in range; huge numbers and fractions are refused', () => {
  for (const replicas of ['-1', '21', '1.5', '1e400', '"2"', 'null']) {
    const [issue] = issuesOf(() => checkBody(operations.scale.body, body(`{"processes":{"web":${replicas}}}`)));
    assert.equal(issue.path, 'processes.web', replicas);
    assert.match(issue.message, /^must be a whole number from 0 to 20, not /);
  }
  assert.equal(checkBody(operations.run.body, body('{"command":"x","timeoutSeconds":1.5}')).timeoutSeconds, 1.5);
});

test('required fields, lengths, patterns, entry counts', () => {
  assert.deepEqual(issuesOf(() => checkBody(operations.createApp.body, body('{}')))[0], { path: 'name', message: 'is required', fix: '"name": "hello"' });
  assert.equal(issuesOf(() => checkBody(operations.run.body, body('{"command":""}')))[0].message, 'must not be empty');
  assert.equal(issuesOf(() => checkBody(operations.run.body, body('{"command":"a\\u0000b"}')))[0].message, 'must not contain NUL characters');
  assert.match(issuesOf(() => checkBody(operations.patchEnv.body, { set: { A: 'x'.repeat(64 * 1024 + 1) } }))[0].message, /longer than 65536/);
  const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${i}`, 'x']));
  assert.match(issuesOf(() => checkBody(operations.patchEnv.body, { set: many }))[0].message, /1001 entries, more than the 1000 allowed/);
  const long = issuesOf(() => checkBody(operations.patchEnv.body, { set: { ['K'.repeat(300)]: 'x' } }))[0];
  assert.ok(long.path.length < 60, `a long key is cut in the path: ${long.path}`);
});

test('the body must be an object; an endpoint without a body takes only nothing or {}', () => {
  for (const text of ['[]', '"x"', '1', 'null']) assert.equal(issuesOf(() => checkBody(operations.rollback.body, body(text)))[0].path, '(body)');
  checkNoBody({});
  assert.equal(issuesOf(() => checkNoBody({ force: true }))[0].fix, 'this endpoint takes no fields');
});

test('issues are capped: a body with thousands of problems gets a short answer', () => {
  const set = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`V${i}`, i]));
  const issues = issuesOf(() => checkBody(operations.patchEnv.body, { set }));
  assert.equal(issues.length, 21);
  assert.match(issues[20].message, /480 more problems/);
});

test('query parameters: unknown, repeated, not numbers, out of range, not 1 or 0: refused, never clamped', () => {
  const q = (text: string) => new URLSearchParams(text);
  assert.deepEqual({ ...checkQuery(operations.appEvents.query, q('')) }, { limit: 100 });
  assert.deepEqual({ ...checkQuery(operations.logs.query, q('tail=5&follow=1&since=10m')) }, { tail: 5, follow: true, since: '10m' });
  const cases: [string, string, RegExp][] = [
    ['limit=-5', 'limit', /must be a whole number from 1 to 1000, not "-5"/],
    ['limit=5000', 'limit', /from 1 to 1000/],
    ['limit=ten', 'limit', /not "ten"/],
    ['limit=', 'limit', /not ""/],
    ['limit=1e3', 'limit', /not "1e3"/],
    ['limit=1&limit=2', 'limit', /more than once/],
    ['limt=5', 'limt', /not a query parameter/],
  ];
  for (const [text, path, message] of cases) {
    const [issue] = issuesOf(() => checkQuery(operations.appEvents.query, q(text)));
    assert.equal(issue.path, path, text);
    assert.match(issue.message, message, text);
  }
  assert.equal(issuesOf(() => checkQuery(operations.appEvents.query, q('limt=5')))[0].fix, 'did you mean "limit"?');
  assert.equal(issuesOf(() => checkQuery(operations.getEnv.query, q('reveal=true')))[0].message, 'must be 1 or 0, not "true"');
  assert.equal(issuesOf(() => checkQuery(undefined, q('x=1')))[0].fix, 'this endpoint takes no query parameters');
});
