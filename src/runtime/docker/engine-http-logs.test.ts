/** Container logs against the real engine: the multiplexed stream, timestamps, tail, since and follow. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dockerSuite } from '../../../test/support/docker.ts';
import { within } from '../contract-helpers.test-support.ts';
import type { LogEntry } from './engine.ts';
import { EngineError } from './engine-http.ts';
import { collect, engineHarness, type EngineHarness } from './engine-harness.test-support.ts';

const docker = await dockerSuite();

describe('docker engine over HTTP: logs', { skip: docker.skip, timeout: 180_000 }, () => {
  let h: EngineHarness;
  before(async () => {
    h = await engineHarness();
  });
  after(async () => {
    await h?.cleanup();
  });

  /** Runs `script` to the end and returns the container id. */
  const runToEnd = async (what: string, script: string) => {
    const id = await h.run(what, { Cmd: ['sh', '-c', script] });
    assert.equal(await within(h.engine.waitContainer(id), 30_000, `${what} to end`), 0);
    return id;
  };
  const texts = (entries: LogEntry[], stream?: 'stdout' | 'stderr') => entries.filter((e) => !stream || e.stream === stream).map((e) => e.line);

  test('stdout and stderr are told apart, one entry per line, with the engine timestamps', async () => {
    const before = Date.now();
    const id = await runToEnd('streams', 'echo out-1; echo err-1 >&2; echo out-2; printf "a\\nb\\nc\\n"; printf "crlf\\r\\n" >&2');
    const entries = await collect(h.engine.containerLogs(id, {}));
    assert.deepEqual(texts(entries, 'stdout'), ['out-1', 'out-2', 'a', 'b', 'c']);
    assert.deepEqual(texts(entries, 'stderr'), ['err-1', 'crlf']);
    for (const entry of entries) {
      assert.ok(entry.ts >= before - 2_000 && entry.ts <= Date.now() + 2_000, `timestamp ${new Date(entry.ts).toISOString()} is the engine's time of the line`);
    }
    const stdoutTimes = entries.filter((e) => e.stream === 'stdout').map((e) => e.ts);
    assert.deepEqual(stdoutTimes, [...stdoutTimes].sort((a, b) => a - b));
  });

  test('tail gives the last lines; since (seconds) leaves out earlier ones and includes its own instant', async () => {
    const id = await runToEnd('tail', 'for i in 1 2 3 4 5; do echo line-$i; done; sleep 1.2; echo late-1; echo late-2');
    const all = await collect(h.engine.containerLogs(id, {}));
    assert.deepEqual(texts(all), ['line-1', 'line-2', 'line-3', 'line-4', 'line-5', 'late-1', 'late-2']);
    assert.deepEqual(texts(await collect(h.engine.containerLogs(id, { tail: 2 }))), ['late-1', 'late-2']);
    assert.deepEqual(texts(await collect(h.engine.containerLogs(id, { tail: 0 }))), []);
    const late = all[5];
    assert.ok(late.ts - all[4].ts >= 1_000);
    assert.deepEqual(texts(await collect(h.engine.containerLogs(id, { since: late.ts / 1000 }))), ['late-1', 'late-2']);
    assert.deepEqual(texts(await collect(h.engine.containerLogs(id, { since: (late.ts - 500) / 1000, tail: 1 }))), ['late-2']);
  });

  test('follow: a line written after the call arrives, and the stream ends with the container', async () => {
    const id = await h.run('follow', { Cmd: ['sh', '-c', 'echo first; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo after-call; echo oops >&2; sleep 0.3'] });
    const seen: LogEntry[] = [];
    let sawFirst = () => {};
    const first = new Promise<void>((resolve) => (sawFirst = resolve));
    const following = (async () => {
      for await (const entry of h.engine.containerLogs(id, { follow: true, signal: AbortSignal.timeout(30_000) })) {
        seen.push(entry);
        if (entry.line === 'first') sawFirst();
      }
    })();
    await within(first, 10_000, 'the first line');
    assert.equal(seen.length, 1);
    await h.engine.exec(id, ['touch', '/tmp/go']);
    await within(following, 15_000, 'the follow to end with the container');
    // Within a stream the order holds; between stdout and stderr (two pipes) it does not.
    assert.deepEqual(texts(seen, 'stdout'), ['first', 'after-call']);
    assert.deepEqual(texts(seen, 'stderr'), ['oops']);
  });

  test('follow ends quietly when its signal aborts', async () => {
    const id = await h.run('follow-abort', { Cmd: ['sh', '-c', 'echo hello; sleep 300'] });
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const entry of h.engine.containerLogs(id, { follow: true, signal: controller.signal })) {
        seen.push(entry.line);
        controller.abort();
      }
    })();
    await within(following, 10_000, 'the aborted follow to end');
    assert.deepEqual(seen, ['hello']);
    assert.equal((await h.engine.inspectContainer(id))?.State.Running, true);
  });

  test('a line longer than the log driver buffer (split over frames) arrives as one line; many lines keep their order', async () => {
    const id = await runToEnd('long', 'head -c 40000 /dev/zero | tr "\\0" x; echo; echo next; seq 1 5000');
    const entries = await collect(h.engine.containerLogs(id, {}));
    assert.equal(entries[0].line, 'x'.repeat(40_000));
    assert.equal(entries[1].line, 'next');
    assert.deepEqual(
      texts(entries.slice(2)),
      Array.from({ length: 5000 }, (_, i) => String(i + 1)),
    );
  });

  test('logs of a missing container are a 404 EngineError', async () => {
    await assert.rejects(collect(h.engine.containerLogs(h.name('nothing'), {})), (error) => error instanceof EngineError && error.status === 404);
  });
});
