/** seen-events.ts, pure: out-of-order events are all handled, replays are skipped, memory stays bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from './engine.ts';
import { REPLAY_MARGIN_NS, SeenEvents } from './seen-events.ts';

const SECOND = 1_000_000_000;
const T0 = 1_800_000_000 * SECOND;
const event = (container: string, action: string, timeNano: number): EngineEvent => ({
  Type: 'container',
  Action: action,
  Actor: { ID: container, Attributes: {} },
  time: Math.floor(timeNano / SECOND),
  timeNano,
});

test('events stamped before one already seen (two containers stopped at once) are still handled', () => {
  const seen = new SeenEvents();
  // The engine made b's kill 40 us after a's, but published it first.
  assert.equal(seen.add(event('b', 'kill', T0 + 40_000)), true);
  assert.equal(seen.add(event('a', 'kill', T0)), true);
  assert.equal(seen.add(event('b', 'die', T0 + 9_000_000)), true);
  assert.equal(seen.add(event('a', 'die', T0 + 5_000_000)), true);
});

test('a replay after a reconnect is skipped, event by event; it starts a margin before the newest event seen', () => {
  const seen = new SeenEvents();
  assert.equal(seen.resumeFrom, undefined, 'nothing seen: the stream starts from now');
  const first = [event('a', 'start', T0), event('a', 'kill', T0 + 2 * SECOND), event('b', 'kill', T0 + 2 * SECOND - 10_000)];
  for (const e of first) assert.equal(seen.add(e), true);
  assert.equal(seen.resumeFrom, T0 + 2 * SECOND - REPLAY_MARGIN_NS);
  // What the engine replays from there: the two kills again, then a die that is new.
  assert.equal(seen.add(first[1]), false);
  assert.equal(seen.add(first[2]), false);
  assert.equal(seen.add(event('a', 'die', T0 + 2 * SECOND + 5_000)), true);
  // Same time and container, another action: a different event.
  assert.equal(seen.add(event('a', 'die', T0 + 2 * SECOND)), true);
});

test('what a replay can no longer bring back is forgotten: the set stays small over a long stream', () => {
  const seen = new SeenEvents();
  for (let i = 0; i < 50_000; i++) seen.add(event(`c${i % 7}`, 'start', T0 + i * 1_000_000)); // one per ms for 50 s
  assert.ok(seen.size <= 1_001, `keeps about one second of events, not ${seen.size}`);
  // A burst in one instant is capped too.
  for (let i = 0; i < 20_000; i++) seen.add(event(`burst${i}`, 'die', T0 + 60 * SECOND));
  assert.ok(seen.size <= 10_000, `capped, not ${seen.size}`);
});
