/**
 * The runtime driver contract: behaviour every RuntimeDriver must show, registered as node:test cases.
 * A driver's test file calls runDriverContract with a setup that builds a fresh harness per case.
 * Every wait is bounded; every case asserts on what it observed, so none can pass by doing nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import type { FixtureName } from './contract-fixtures.test-support.ts';
import type { Address, BuildResult, DriverEvent, InstanceSpec, RestartPolicy, RuntimeDriver } from './driver.ts';
import { connectionRefused, getJsonWhenUp, instanceSpec, readLogs, recordEvents, waitFor, within } from './contract-helpers.test-support.ts';

export interface ContractHarness {
  /** The current driver; restartDriver() replaces it. */
  readonly driver: RuntimeDriver;
  /** Materializes a fixture app into a fresh source directory. */
  sourceFor(fixture: FixtureName): Promise<string>;
  /** Simulates a daemon restart: closes the driver WITHOUT stopping instances, then makes a new one over the same state. */
  restartDriver(): Promise<RuntimeDriver>;
  /** Makes an instance die on its own, as `kill -9` from outside berth would; resolves once it is dead. */
  crash(id: string): Promise<void>;
  /** The build outputs that exist now (any form, including half-done ones), to check what a build left behind. */
  artifacts(): Promise<string[]>;
  /** Stops whatever is left, closes the driver, removes temporary state; fails if anything was left running. */
  cleanup(): Promise<void>;
}

/** A bound per case, so a hang fails instead of stalling the run; a driver whose cases build images asks for more. */
const DEFAULT_CASE_TIMEOUT_MS = 30_000;
const UP_MS = 10_000;

const quietRestart: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 1_000 };
const fastRestart: RestartPolicy = { maxRestarts: 2, windowMs: 60_000, backoffMs: 50, maxBackoffMs: 200 };

const isType =
  <T extends DriverEvent['type']>(type: T, id: string) =>
  (e: DriverEvent): e is Extract<DriverEvent, { type: T }> =>
    e.type === type && e.id === id;

export function runDriverContract(name: string, setup: () => Promise<ContractHarness>, options: { caseTimeoutMs?: number } = {}): void {
  const CASE_TIMEOUT_MS = options.caseTimeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
  const withHarness = async (body: (h: ContractHarness) => Promise<void>) => {
    const h = await setup();
    let failure: unknown;
    try {
      await body(h);
    } catch (error) {
      failure = error;
    }
    try {
      await h.cleanup();
    } catch (error) {
      failure ??= error;
    }
    if (failure) throw failure;
  };

  const build = async (h: ContractHarness, fixture: FixtureName, log: (line: string) => void = () => {}) =>
    h.driver.build({ app: 'contract', buildId: newId('bld'), sourceDir: await h.sourceFor(fixture), signal: new AbortController().signal, log });

  const specFor = (built: BuildResult, overrides: Partial<InstanceSpec> = {}): InstanceSpec =>
    instanceSpec(built.artifact, { command: built.inferredCommand ?? 'node server.js', restart: quietRestart, ...overrides });

  const addressOf = (info: { address: Address | null }): Address => {
    assert.ok(info.address, 'a web instance has an address');
    return info.address;
  };

  describe(`${name} driver contract`, { timeout: CASE_TIMEOUT_MS * 15 }, () => {
    test('1. build then start echo: it serves its env with GREETING, PORT and BERTH_*', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'echo');
        assert.equal(typeof built.artifact, 'string');
        assert.equal(built.inferredCommand, 'node server.js');
        const spec = specFor(built, { env: { GREETING: 'hi' } });
        const started = await h.driver.start(spec);
        assert.equal(started.id, spec.id);
        const address = addressOf(started);
        const body = await getJsonWhenUp(address, '/', UP_MS);
        assert.equal(body.env.GREETING, 'hi');
        assert.equal(body.env.PORT, String(address.port));
        assert.equal(body.env.BERTH_APP, 'contract');
        assert.equal(body.env.BERTH_RELEASE, 'r1');
        assert.equal(body.env.BERTH_PROCESS, 'web');
        const info = await h.driver.inspect(spec.id);
        assert.equal(info.state, 'running');
        assert.deepEqual(info.address, address);
        assert.deepEqual([info.app, info.release, info.process], ['contract', 'r1', 'web']);
        await h.driver.stop(spec.id);
      }),
    );

    test('2. a failing build rejects with BUILD_FAILED naming the command, logs its output, leaves nothing', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const before = await h.artifacts();
        const lines: string[] = [];
        await assert.rejects(build(h, 'fail-build', (line) => lines.push(line)), (error: unknown) => {
          assert.ok(isBerthError(error), `expected a BerthError, got ${String(error)}`);
          assert.equal(error.code, 'BUILD_FAILED');
          assert.match(error.message, /`npm run build`/);
          return true;
        });
        assert.ok(lines.some((l) => l.includes('boom')), `build log should contain "boom": ${JSON.stringify(lines)}`);
        assert.deepEqual(await h.artifacts(), before);
      }),
    );

    test('3. stop ends the instance, kills one that ignores SIGTERM after its timeout, and accepts unknown ids', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const echo = specFor(await build(h, 'echo'));
        const address = addressOf(await h.driver.start(echo));
        await getJsonWhenUp(address, '/', UP_MS);
        await within(h.driver.stop(echo.id), 5_000, 'stop of echo');
        assert.equal(await connectionRefused(address), true, 'the port is closed after stop');
        assert.equal((await h.driver.inspect(echo.id)).state, 'missing');

        const stubborn = specFor(await build(h, 'ignore-sigterm'), { stopTimeoutMs: 300 });
        const stubbornAddress = addressOf(await h.driver.start(stubborn));
        await getJsonWhenUp(stubbornAddress, '/', UP_MS);
        const began = Date.now();
        await within(h.driver.stop(stubborn.id), 5_000, 'stop of ignore-sigterm');
        const took = Date.now() - began;
        assert.ok(took >= 300, `stop waited the stop timeout before killing (took ${took} ms)`);
        assert.equal(await connectionRefused(stubbornAddress), true);
        assert.equal((await h.driver.inspect(stubborn.id)).state, 'missing');

        await within(h.driver.stop('ins_never_started'), 2_000, 'stop of an unknown id');
        await within(h.driver.stop(echo.id), 2_000, 'a second stop of the same id');
      }),
    );

    test('4. a crashing instance is restarted with back-off, then declared crash-looping', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const spec = specFor(await build(h, 'crash'), { restart: fastRestart });
        const recorder = recordEvents(h.driver);
        const address = addressOf(await h.driver.start(spec));
        const restarted = await recorder.waitFor(isType('restarted', spec.id), 10_000, 'a restarted event');
        assert.ok(restarted.restarts >= 1);
        assert.deepEqual(restarted.address, address, 'restarted on the same port while it is free');
        const loop = await recorder.waitFor(isType('crashloop', spec.id), 15_000, 'a crashloop event');
        assert.equal(loop.restarts, fastRestart.maxRestarts);
        assert.equal(loop.exit.code, 3);
        const exits = recorder.events.filter(isType('exited', spec.id));
        assert.equal(exits.length, fastRestart.maxRestarts + 1, 'one exited event per crash');
        assert.deepEqual(exits.map((e) => e.willRestart), [true, true, false]);
        const info = await h.driver.inspect(spec.id);
        assert.equal(info.state, 'crashloop');
        assert.equal(info.lastExit?.code, 3);
        assert.equal(info.restarts, fastRestart.maxRestarts);
        await h.driver.stop(spec.id);
        assert.equal((await h.driver.inspect(spec.id)).state, 'missing');
        recorder.stop();
      }),
    );

    test('5. logs: streams, tail, since, follow until aborted, secrets masked', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const secret = 'sup3r-s3cret-value';
        const echo = specFor(await build(h, 'echo'), { env: { SECRET_TOKEN: secret }, secrets: [secret] });
        await h.driver.start(echo);
        const lines = await waitFor(
          async () => {
            const got = await readLogs(h.driver, echo.id);
            return got.some((l) => l.stream === 'stdout') && got.some((l) => l.stream === 'stderr') ? got : undefined;
          },
          { timeoutMs: UP_MS, what: 'a stdout and a stderr line from echo' },
        );
        const out = lines.find((l) => l.stream === 'stdout')!;
        const err = lines.find((l) => l.stream === 'stderr')!;
        assert.match(out.line, /^echo: listening on \d+ with token \*\*\*$/);
        assert.equal(err.line, 'echo: warming up with token ***');
        assert.equal(out.instance, echo.id);
        assert.ok(lines.every((l) => !l.line.includes(secret)), 'the secret never appears');
        const tail = await readLogs(h.driver, echo.id, { tail: 1 });
        assert.equal(tail.length, 1);
        assert.deepEqual(tail[0], lines[lines.length - 1]);

        const worker = specFor(await build(h, 'worker'), { process: 'worker', port: false, command: 'node worker.js' });
        await h.driver.start(worker);
        const tickOf = (line: string) => Number(/^tick (\d+)$/.exec(line)?.[1] ?? NaN);
        await waitFor(async () => (await readLogs(h.driver, worker.id)).length >= 2, { timeoutMs: UP_MS, what: 'two worker lines' });
        // +1: a line collected in this very millisecond must not count as both before and after the mark.
        const since = Date.now() + 1;
        const all = await waitFor(
          async () => {
            const got = await readLogs(h.driver, worker.id);
            return got.some((l) => l.ts >= since) ? got : undefined;
          },
          { timeoutMs: UP_MS, what: 'a worker line after the since mark' },
        );
        const recent = await readLogs(h.driver, worker.id, { sinceMs: since });
        const expected = (await readLogs(h.driver, worker.id)).filter((l) => l.ts >= since);
        assert.ok(recent.length >= 1, 'since keeps the lines after the mark');
        assert.deepEqual(recent, expected.slice(0, recent.length), 'since keeps exactly the lines at or after the mark');
        assert.ok(all.some((l) => l.ts < since), 'and there were earlier lines it dropped');

        const seen = Math.max(...(await readLogs(h.driver, worker.id)).map((l) => tickOf(l.line)));
        assert.ok(Number.isFinite(seen), 'worker lines look like "tick <n>"');
        const controller = new AbortController();
        const iterator = h.driver.logs(worker.id, { follow: true, tail: 0, signal: controller.signal })[Symbol.asyncIterator]();
        const next = await within(iterator.next(), 5_000, 'a followed line');
        assert.equal(next.done, false);
        assert.ok(tickOf(next.value.line) > seen, `follow yields new lines (${next.value.line} after tick ${seen})`);
        controller.abort();
        await within(
          (async () => {
            for (let r = await iterator.next(); !r.done; r = await iterator.next());
          })(),
          3_000,
          'follow to end after the signal aborts',
        );
        await h.driver.stop(worker.id);
        await h.driver.stop(echo.id);
        const afterStop = await readLogs(h.driver, echo.id);
        assert.ok(afterStop.length >= 2, 'logs stay readable after stop');
        assert.ok(afterStop.every((l) => !l.line.includes(secret)));
        await h.driver.removeLogs(echo.app, echo.release);
        await h.driver.removeLogs(echo.app, echo.release);
        assert.deepEqual(await readLogs(h.driver, echo.id), [], 'removeLogs forgets them, and is idempotent');
      }),
    );

    test('6. instances survive a daemon restart and are adopted, supervised and stoppable', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'echo');
        const kept = specFor(built);
        const keptAddress = addressOf(await h.driver.start(kept));
        await getJsonWhenUp(keptAddress, '/', UP_MS);
        const diedWhileDown = specFor(built, { restart: { ...quietRestart, backoffMs: 50 } });
        const downAddress = addressOf(await h.driver.start(diedWhileDown));
        await getJsonWhenUp(downAddress, '/', UP_MS);

        let driver = await h.restartDriver();
        assert.equal(driver, h.driver, 'the harness hands out the new driver');
        await h.crash(diedWhileDown.id);
        const recorder = recordEvents(driver);
        const adopted = await driver.adopt();
        const keptInfo = adopted.find((i) => i.id === kept.id);
        assert.equal(keptInfo?.state, 'running');
        assert.deepEqual(keptInfo?.address, keptAddress);
        assert.ok(adopted.some((i) => i.id === diedWhileDown.id), 'adopt reports the instance that died while down');
        const body = await getJsonWhenUp(keptAddress, '/', UP_MS);
        assert.equal(body.env.BERTH_RELEASE, 'r1');

        const revived = await recorder.waitFor(isType('restarted', diedWhileDown.id), 10_000, 'restart of the instance that died while down');
        await getJsonWhenUp(addressOf(revived), '/', UP_MS);

        await h.crash(kept.id);
        const crashed = await recorder.waitFor(isType('exited', kept.id), 10_000, 'the new driver noticing a crash');
        assert.equal(crashed.willRestart, true);
        const back = await recorder.waitFor(isType('restarted', kept.id), 10_000, 'the new driver restarting it');
        await getJsonWhenUp(addressOf(back), '/', UP_MS);
        assert.equal((await driver.inspect(kept.id)).restarts, 1);

        await driver.stop(kept.id);
        await driver.stop(diedWhileDown.id);
        assert.equal(await connectionRefused(addressOf(back)), true);
        assert.equal(await connectionRefused(addressOf(revived)), true);
        assert.equal((await driver.inspect(kept.id)).state, 'missing');
        recorder.stop();
        driver = await h.restartDriver();
        assert.deepEqual((await driver.adopt()).filter((i) => i.id === kept.id || i.id === diedWhileDown.id), []);
      }),
    );

    test('7. list shows every started instance; removeArtifact is idempotent; holdings name what is left', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'echo');
        const a = specFor(built, { process: 'web' });
        const b = specFor(built, { process: 'admin', release: 'r2' });
        await h.driver.start(a);
        await h.driver.start(b);
        const listed = await h.driver.list();
        for (const spec of [a, b]) {
          const info = listed.find((i) => i.id === spec.id);
          assert.ok(info, `list includes ${spec.id}`);
          assert.deepEqual([info.app, info.release, info.process, info.state], [spec.app, spec.release, spec.process, 'running']);
        }
        await h.driver.stop(a.id);
        assert.ok(!(await h.driver.list()).some((i) => i.id === a.id), 'a stopped instance leaves the list');
        await h.driver.stop(b.id);

        const other = await build(h, 'worker');
        assert.ok((await h.artifacts()).length >= 2);
        await h.driver.removeArtifact(other.artifact);
        await h.driver.removeArtifact(other.artifact);
        const left = await h.artifacts();
        assert.equal(left.length, 1, `only the echo artifact is left: ${JSON.stringify(left)}`);

        // What recovery compares with the store: the app (its logs, network...) and the artifact still there.
        const held = await h.driver.holdings();
        assert.ok(held.apps.includes('contract'), JSON.stringify(held));
        assert.deepEqual(held.artifacts, [built.artifact]);
        await h.driver.removeArtifact(built.artifact);
        await h.driver.removeApp('contract');
        assert.deepEqual(await h.driver.holdings(), { apps: [], artifacts: [] }, 'nothing of the app is left');
      }),
    );

    test('8. a worker runs without an address and its log lines accumulate', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'worker');
        assert.equal(built.inferredCommand, 'node worker.js');
        const spec = specFor(built, { process: 'worker', port: false, command: built.inferredCommand });
        const started = await h.driver.start(spec);
        assert.equal(started.address, null);
        const first = await waitFor(
          async () => {
            const n = (await readLogs(h.driver, spec.id)).length;
            return n >= 3 ? n : undefined;
          },
          { timeoutMs: UP_MS, what: 'three worker lines' },
        );
        await waitFor(async () => (await readLogs(h.driver, spec.id)).length > first, { timeoutMs: UP_MS, what: 'more worker lines' });
        const info = await h.driver.inspect(spec.id);
        assert.equal(info.state, 'running');
        assert.equal(info.address, null);
        assert.equal(info.restarts, 0);
        await h.driver.stop(spec.id);
      }),
    );

    test('9. health checks: a fresh heartbeat file or a command exiting 0 is healthy, anything else is not', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'worker');
        const spec = specFor(built, { process: 'worker', port: false, command: built.inferredCommand });
        await h.driver.start(spec);
        const fresh = await waitFor(
          async () => {
            const result = await h.driver.checkHealth(spec.id, { heartbeat: { file: 'heartbeat', maxAgeMs: 5_000 }, timeoutMs: 5_000 });
            return result.ok ? result : undefined;
          },
          { timeoutMs: UP_MS, what: 'a fresh heartbeat' },
        );
        assert.equal(fresh.ok, true);
        const missing = await h.driver.checkHealth(spec.id, { heartbeat: { file: 'no-such-heartbeat', maxAgeMs: 5_000 }, timeoutMs: 5_000 });
        assert.equal(missing.ok, false);
        assert.match(missing.detail, /no-such-heartbeat/);
        assert.equal((await h.driver.checkHealth(spec.id, { command: 'exit 0', timeoutMs: 5_000 })).ok, true);
        const failing = await h.driver.checkHealth(spec.id, { command: 'exit 2', timeoutMs: 5_000 });
        assert.equal(failing.ok, false);
        assert.match(failing.detail, /2/);
        await h.driver.stop(spec.id);
        assert.equal((await h.driver.checkHealth(spec.id, { command: 'exit 0', timeoutMs: 5_000 })).ok, false, 'a stopped instance is not healthy');
      }),
    );

    test('10. one-off runs: output (masked), exit code, and a timeout that ends it', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'echo');
        const secret = 'tok_oneoff_5e3c7a';
        const lines: string[] = [];
        const base = { app: 'contract', release: 'r1', artifact: built.artifact, env: { SECRET_TOKEN: secret }, secrets: [secret], signal: new AbortController().signal };
        const done = await h.driver.runOnce({ ...base, id: newId('run'), command: 'node once.js', timeoutMs: 20_000, onLine: (l) => lines.push(l.line) });
        assert.deepEqual(done, { exitCode: 3, timedOut: false });
        assert.ok(lines.includes('once with token ***'), JSON.stringify(lines));
        assert.ok(lines.every((l) => !l.includes(secret)));
        const started = Date.now();
        const slow = await h.driver.runOnce({ ...base, id: newId('run'), command: 'node slow-once.js', timeoutMs: 1_500, onLine: () => {} });
        assert.deepEqual(slow, { exitCode: null, timedOut: true });
        assert.ok(Date.now() - started < 15_000, 'the timeout ended it');
      }),
    );

    test('11. an instance that exits with code 0 on its own is restarted like a crash', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const spec = specFor(await build(h, 'exit-zero'), { restart: { ...quietRestart, backoffMs: 50, maxBackoffMs: 200 } });
        const recorder = recordEvents(h.driver);
        await h.driver.start(spec);
        const exited = await recorder.waitFor(isType('exited', spec.id), 10_000, 'the exit with code 0');
        assert.equal(exited.exit.code, 0);
        assert.equal(exited.willRestart, true, 'an exit berth did not ask for is restarted, whatever its code');
        assert.equal(exited.restarts, 0);
        const back = await recorder.waitFor(isType('restarted', spec.id), 10_000, 'the restart after the exit with code 0');
        assert.equal(back.restarts, 1);
        assert.ok(back.address, 'it has an address again');
        const first = recorder.events.filter((e) => e.id === spec.id).slice(0, 2).map((e) => e.type);
        assert.deepEqual(first, ['exited', 'restarted'], 'no crash loop after a single exit');
        await h.driver.stop(spec.id);
        recorder.stop();
      }),
    );

    test('12. crashes further apart than the restart window never make a crash loop', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        // One restart allowed per second; the instance crashes ~1.5 s after each start, so every crash is alone in its window.
        const policy: RestartPolicy = { maxRestarts: 1, windowMs: 1_000, backoffMs: 50, maxBackoffMs: 100 };
        const spec = specFor(await build(h, 'slow-crash'), { restart: policy });
        const recorder = recordEvents(h.driver);
        await h.driver.start(spec);
        const restarts = () => recorder.events.filter(isType('restarted', spec.id));
        await waitFor(() => restarts().length >= 3 || recorder.events.some(isType('crashloop', spec.id)), { timeoutMs: 20_000, what: 'three restarts after spaced crashes' });
        assert.deepEqual(recorder.events.filter(isType('crashloop', spec.id)), [], 'no crash loop');
        assert.deepEqual(restarts().slice(0, 3).map((e) => e.restarts), [1, 2, 3]);
        const exits = recorder.events.filter(isType('exited', spec.id));
        assert.ok(exits.length >= 3, `one exited event per crash (${exits.length})`);
        assert.ok(exits.every((e) => e.willRestart && e.exit.code === 3), JSON.stringify(exits));
        assert.notEqual((await h.driver.inspect(spec.id)).state, 'crashloop');
        await h.driver.stop(spec.id);
        recorder.stop();
      }),
    );

    test('13. restart(id) ends the process after its stop timeout and supervision brings it back, counted as a restart', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const recorder = recordEvents(h.driver);
        const spec = specFor(await build(h, 'echo'), { restart: quietRestart });
        await getJsonWhenUp(addressOf(await h.driver.start(spec)), '/', UP_MS);
        const before = await h.driver.inspect(spec.id);
        await within(h.driver.restart(spec.id), 10_000, 'restart(id)');
        const exited = await recorder.waitFor(isType('exited', spec.id), 10_000, 'the exit restart(id) caused');
        assert.equal(exited.willRestart, true);
        assert.equal(exited.restarts, 0);
        const back = await recorder.waitFor(isType('restarted', spec.id), 10_000, 'the instance back after restart(id)');
        assert.equal(back.restarts, 1);
        assert.ok(recorder.events.indexOf(exited) < recorder.events.indexOf(back), 'exited, then restarted');
        await getJsonWhenUp(addressOf(back), '/', UP_MS);
        const after = await h.driver.inspect(spec.id);
        assert.equal(after.state, 'running');
        assert.equal(after.restarts, 1);
        if (before.pid !== undefined) assert.notEqual(after.pid, before.pid, 'a new process serves');

        // SIGTERM ignored: restart(id) waits the stop timeout, then kills.
        const stubborn = specFor(await build(h, 'ignore-sigterm'), { stopTimeoutMs: 300, restart: quietRestart });
        await getJsonWhenUp(addressOf(await h.driver.start(stubborn)), '/', UP_MS);
        const began = Date.now();
        await within(h.driver.restart(stubborn.id), 10_000, 'restart(id) of ignore-sigterm');
        const took = Date.now() - began;
        assert.ok(took >= 300, `restart waited the stop timeout before killing (took ${took} ms)`);
        const stubbornBack = await recorder.waitFor(isType('restarted', stubborn.id), 10_000, 'ignore-sigterm back after restart(id)');
        assert.equal(stubbornBack.restarts, 1);

        // A no-op for an unknown id and for a stopped instance.
        await within(h.driver.restart('ins_never_started'), 2_000, 'restart of an unknown id');
        await h.driver.stop(spec.id);
        await within(h.driver.restart(spec.id), 2_000, 'restart of a stopped instance');
        assert.equal((await h.driver.inspect(spec.id)).state, 'missing');
        await h.driver.stop(stubborn.id);
        recorder.stop();
      }),
    );

    test('14. usage(ids): a running instance reports its CPU counter and memory; stopped and unknown ids are left out', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'echo');
        const spec = specFor(built);
        const other = specFor(built);
        await getJsonWhenUp(addressOf(await h.driver.start(spec)), '/', UP_MS);
        await getJsonWhenUp(addressOf(await h.driver.start(other)), '/', UP_MS);
        await h.driver.stop(other.id);
        const first = await within(h.driver.usage([spec.id, other.id, 'ins_never_started', spec.id]), 10_000, 'usage()');
        assert.deepEqual(first.map((u) => u.id), [spec.id], `only the running instance, once: ${JSON.stringify(first)}`);
        const [u] = first;
        assert.ok(Number.isFinite(u.cpuSeconds) && u.cpuSeconds >= 0, `cpuSeconds ${u.cpuSeconds}`);
        assert.ok(Number.isFinite(u.memoryBytes) && u.memoryBytes > 0, `memoryBytes ${u.memoryBytes}`);
        assert.ok(u.memoryLimitBytes === null || u.memoryLimitBytes > 0, `memoryLimitBytes ${u.memoryLimitBytes}`);
        // Some work, then a second sample: CPU is a counter, it never goes back.
        for (let i = 0; i < 20; i++) await getJsonWhenUp(addressOf(await h.driver.inspect(spec.id)), '/', UP_MS);
        const [again] = await h.driver.usage([spec.id]);
        assert.ok(again && again.cpuSeconds >= u.cpuSeconds, `the counter grew or stayed: ${u.cpuSeconds} -> ${again?.cpuSeconds}`);
        assert.deepEqual(await h.driver.usage([]), []);
        await h.driver.stop(spec.id);
        assert.deepEqual(await h.driver.usage([spec.id]), [], 'a stopped instance is left out');
      }),
    );

    test('15. pruneLogs(olderThan): kept lines older than the cutoff go, newer ones stay, a running instance keeps logging', { timeout: CASE_TIMEOUT_MS }, () =>
      withHarness(async (h) => {
        const built = await build(h, 'worker');
        const spec = specFor(built, { process: 'worker', port: false, command: built.inferredCommand });
        const live = specFor(built, { process: 'worker', port: false, command: built.inferredCommand });
        await h.driver.start(spec);
        await h.driver.start(live);
        const enough = async (id: string, n: number) =>
          waitFor(
            async () => {
              const lines = await readLogs(h.driver, id);
              return lines.length >= n ? lines : undefined;
            },
            { timeoutMs: UP_MS, what: `${n} lines of ${id}` },
          );
        await enough(spec.id, 4);
        await h.driver.stop(spec.id);
        const all = await readLogs(h.driver, spec.id);
        assert.ok(all.length >= 4, `the stopped instance's lines are kept: ${all.length}`);

        assert.deepEqual(await h.driver.pruneLogs(all[0].ts - 1), { files: 0, lines: 0 }, 'nothing is older than the first line');
        assert.deepEqual(await readLogs(h.driver, spec.id), all);

        // A cutoff inside the log: the lines before it go, the others stay as they were.
        const cut = all.find((l) => l.ts > all[0].ts)?.ts;
        assert.ok(cut !== undefined, 'lines with two different times');
        const partial = await h.driver.pruneLogs(cut);
        assert.ok(partial.lines >= 1, JSON.stringify(partial));
        assert.deepEqual(await readLogs(h.driver, spec.id), all.filter((l) => l.ts >= cut));

        // A cutoff after everything: the stopped instance's logs are gone; the running one goes on logging.
        await enough(live.id, 1);
        const after = Date.now() + 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        const whole = await h.driver.pruneLogs(after);
        assert.ok(whole.files >= 1, JSON.stringify(whole));
        assert.deepEqual(await readLogs(h.driver, spec.id), []);
        const later = await waitFor(
          async () => {
            const lines = (await readLogs(h.driver, live.id)).filter((l) => l.ts >= after);
            return lines.length > 0 ? lines : undefined;
          },
          { timeoutMs: UP_MS, what: 'new lines of the running instance after the prune' },
        );
        assert.ok(later.length > 0);
        assert.equal((await h.driver.inspect(live.id)).state, 'running');
        await h.driver.stop(live.id);
      }),
    );
  });
}
