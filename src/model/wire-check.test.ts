import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES, eventSchema, storedEvent } from './events.ts';
import { wireIssues } from './wire-check.ts';
import * as w from './wire-schema.ts';

const thing = w.object({
  id: w.string(),
  count: w.integer(),
  at: w.dateTime(),
  state: w.enumOf(['on', 'off']),
  note: w.optional(w.string()),
  parent: w.nullable(w.string()),
  tags: w.array(w.string()),
  sizes: w.record(w.number()),
});
const fine = { id: 'a', count: 2, at: '2024-05-01T12:00:00.000Z', state: 'on', parent: null, tags: ['x'], sizes: { web: 1.5 } };

test('a value of the shape has no issues; optional fields may be absent, nullable ones null', () => {
  assert.deepEqual(wireIssues(thing, fine), []);
  assert.deepEqual(wireIssues(thing, { ...fine, note: 'n', parent: 'p' }), []);
});

test('each way an answer can drift from its schema is named with its path', () => {
  const cases: [unknown, string[]][] = [
    [{ ...fine, id: 1 }, ['(answer).id: expected a string, got number']],
    [{ ...fine, count: 1.5 }, ['(answer).count: expected a whole number, got 1.5']],
    [{ ...fine, at: 'yesterday' }, ['(answer).at: expected an ISO time in UTC, got "yesterday"']],
    [{ ...fine, state: 'dim' }, ['(answer).state: expected one of on, off, got "dim"']],
    [{ ...fine, note: null }, ['(answer).note: expected a string, got null']],
    [{ ...fine, parent: undefined }, ['(answer).parent: missing']],
    [{ ...fine, tags: ['x', 2] }, ['(answer).tags[1]: expected a string, got number']],
    [{ ...fine, sizes: { web: 'big' } }, ['(answer).sizes.web: expected a number, got string']],
    [{ ...fine, renamed: true }, ['(answer).renamed: not in the schema']],
    [[fine], ['(answer): expected an object, got an array']],
  ];
  for (const [value, issues] of cases) assert.deepEqual(wireIssues(thing, value), issues, JSON.stringify(value));
});

test('an open object takes fields it does not list; a union takes a fit for any member', () => {
  assert.deepEqual(wireIssues(w.openObject({ Version: w.string() }), { Version: '27.0', Os: 'linux' }), []);
  const proxy = w.union(w.object({ pid: w.integer() }), w.object({ error: w.string() }));
  assert.deepEqual(wireIssues(proxy, { error: 'refused' }), []);
  assert.deepEqual(wireIssues(proxy, { pid: 'x' }), ['(answer).pid: expected a number, got string']);
});

test('events: one member per type, its data as the type has it; a stored event without data has none', () => {
  const event = eventSchema({ seq: w.integer() });
  assert.deepEqual(wireIssues(event, { seq: 1, type: 'deploy.state', message: 'building', data: { state: 'building' } }), []);
  assert.deepEqual(wireIssues(event, { seq: 2, type: 'build.log', message: 'npm ci' }), []);
  assert.notDeepEqual(wireIssues(event, { seq: 3, type: 'deploy.state', message: 'x', data: { state: 'dreaming' } }), []);
  assert.notDeepEqual(wireIssues(event, { seq: 4, type: 'build.log', message: 'x', data: {} }), [], 'build.log has no data');
  assert.notDeepEqual(wireIssues(event, { seq: 5, type: 'no.such', message: 'x' }), []);
  assert.equal((w.nodeOf(event) as w.UnionSchema).of.length, EVENT_TYPES.length);
  assert.deepEqual(storedEvent({ type: 'build.log', message: 'x', data: null }), { type: 'build.log', message: 'x' });
});
