/**
 * event-watch.ts against a scripted engine (its event streams and pings only): every event handed on once,
 * a lost stream reported once, resumed a margin before the newest event seen, replays skipped, a resync
 * once the stream is back, and the engine pinged before reconnecting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock.ts';
import { silentLogger } from '../../lib/log.ts';
import type { DockerEngine, EngineEvent } from './engine.ts';
import { EngineEventWatch, instanceEventFilters, type EngineEventSink } from './event-watch.ts';
import { REPLAY_MARGIN_NS } from './seen-events.ts';

const SECOND = 1_000_000_000;
const event = (container: string, action: string, timeNano: number): EngineEvent => ({
  Type: 'container',
  Action: action,
  Actor: { ID: container, Attributes: { 'berth.instance': `ins_${container}` } },
  time: Math.floor(timeNano / SECOND),
  timeNano,
});

/** One connection's script: the events it gives, then how it ends (`hang`: until the watch stops). */
type Stream = { events: EngineEvent[]; end: 'fail' | 'end' | 'hang' };

/** The two engine calls the watch makes, scripted. */
class ScriptedEngine {
  readonly asked: { filters?: Record<string, string[]>; sinceNano?: number }[] = [];
  readonly #streams: Stream[];
  readonly #pings: boolean[];
  pings = 0;

  constructor(streams: Stream[], pings: boolean[]) {
    this.#streams = streams;
    this.#pings = pings;
  }

  async ping(): Promise<boolean> {
    this.pings++;
    return this.#pings.shift() ?? true;
  }

  events(options: { filters?: Record<string, string[]>; signal: AbortSignal; sinceNano?: number }): AsyncIterable<EngineEvent> {
    this.asked.push({ filters: options.filters, ...(options.sinceNano !== undefined ? { sinceNano: options.sinceNano } : {}) });
    const stream = this.#streams.shift() ?? { events: [], end: 'hang' };
    return (async function* () {
      for (const e of stream.events) yield e;
      if (stream.end === 'fail') throw Object.assign(new Error('the engine closed the event stream'), { status: 0 });
      if (stream.end === 'hang') await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
    })();
  }
}

class RecordingSink implements EngineEventSink {
  readonly seen: string[] = [];
  onEvent(e: EngineEvent): void {
    this.seen.push(`${e.Action} ${e.Actor.ID} ${e.timeNano}`);
  }
  streamLost(): void {
    this.seen.push('lost');
  }
  async resync(): Promise<void> {
    this.seen.push('resync');
  }
}

async function waitTurns(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  assert.fail('condition did not come true');
}

test('the watch asks for the lifecycle events of this berth\'s instances only', () => {
  assert.deepEqual(instanceEventFilters('own1'), { type: ['container'], event: ['die', 'start', 'oom', 'kill'], label: ['berth.owner=own1', 'berth.kind=instance'] });
});

test('a lost stream: reported once, the engine pinged until it answers, resumed a margin back with replays skipped, then a resync', async () => {
  const t = 1_900_000_000 * SECOND;
  const first = [event('a', 'start', t), event('b', 'kill', t - 40_000), event('b', 'die', t + 5_000)];
  const engine = new ScriptedEngine(
    [
      { events: first, end: 'fail' },
      // The replay brings back what was seen, then what is new.
      { events: [first[0], first[2], event('a', 'die', t + 2 * SECOND)], end: 'hang' },
    ],
    [false],
  );
  const clock = new ManualClock(0);
  const sink = new RecordingSink();
  const lifetime = new AbortController();
  const running = new EngineEventWatch({ engine: engine as unknown as DockerEngine, ownerId: 'own1', clock, log: silentLogger, sink, signal: lifetime.signal }).run();

  await waitTurns(() => sink.seen.includes('lost'));
  assert.deepEqual(sink.seen, [`start a ${t}`, `kill b ${t - 40_000}`, `die b ${t + 5_000}`, 'lost']);
  assert.equal(engine.asked.length, 1);
  assert.equal(engine.asked[0].sinceNano, undefined, 'the first connection starts from now');
  assert.deepEqual(engine.asked[0].filters, instanceEventFilters('own1'));

  await clock.advance(1000);
  await waitTurns(() => engine.pings === 1);
  assert.equal(engine.asked.length, 1, 'the engine did not answer the ping: no new connection');
  await clock.advance(1000);
  await waitTurns(() => sink.seen.length === 6);
  assert.equal(engine.pings, 2);
  assert.equal(engine.asked[1].sinceNano, t + 5_000 - REPLAY_MARGIN_NS, 'resumed a margin before the newest event seen');
  assert.deepEqual(sink.seen.slice(4), ['resync', `die a ${t + 2 * SECOND}`], 'replayed events skipped, the new one handed on');

  lifetime.abort();
  await running;
  assert.equal(engine.asked.length, 2);
  assert.equal(sink.seen.filter((s) => s === 'lost').length, 1);
});

test('a stream that ends without an error is lost too; a connection had again counts as back, and its loss is reported anew', async () => {
  const engine = new ScriptedEngine(
    [
      { events: [], end: 'end' },
      { events: [], end: 'fail' },
    ],
    [],
  );
  const clock = new ManualClock(0);
  const sink = new RecordingSink();
  const lifetime = new AbortController();
  const running = new EngineEventWatch({ engine: engine as unknown as DockerEngine, ownerId: 'own1', clock, log: silentLogger, sink, signal: lifetime.signal }).run();
  await waitTurns(() => sink.seen.length === 1);
  await clock.advance(1000);
  await waitTurns(() => engine.asked.length === 2);
  await waitTurns(() => sink.seen.length === 3);
  assert.deepEqual(sink.seen, ['lost', 'resync', 'lost'], 'lost, back (resync), lost again');
  await clock.advance(1000);
  await waitTurns(() => engine.asked.length === 3);
  lifetime.abort();
  await running;
  assert.deepEqual(sink.seen, ['lost', 'resync', 'lost', 'resync']);
});
