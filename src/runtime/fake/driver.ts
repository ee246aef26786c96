/**
 * An in-memory RuntimeDriver for fast tests of what sits above the runtime. Instances are real HTTP
 * servers on 127.0.0.1 behaving as their artifact's `.berth-fake.json` says; supervision, stop timeouts,
 * log masking and adoption follow the same rules as the process driver (shared restart policy, shared
 * build plan), and time is the given Clock, so a ManualClock drives crashes, back-offs and timeouts.
 */
import { fail } from '../../errors/catalogue.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { BuildRequest, BuildResult, ExitInfo, HealthCheck, HealthResult, InstanceInfo, InstanceSpec, LogLine, OneOffResult, OneOffSpec, RuntimeDriver } from '../driver.ts';
import { berthVariables } from '../instance-env.ts';
import { driverListeners, missingInstance } from '../listeners.ts';
import { logStream } from '../log-stream.ts';
import { createMasker } from '../mask-secrets.ts';
import { planAfterExit } from '../restart-policy.ts';
import { fakeBuild } from './build.ts';
import { spawnFakeProcess, type FakeProcess } from './process.ts';
import { expand } from './behaviour.ts';
import { appendFakeLog, createFakeState, fakeArtifacts, onFakeLog, type FakeInstance, type FakeState } from './state.ts';

export interface FakeDriverOptions {
  clock?: Clock;
  /** Shared with a later driver to simulate a daemon restart; a fresh state when absent. */
  state?: FakeState;
}

export function createFakeDriver(options: FakeDriverOptions = {}): RuntimeDriver {
  const clock = options.clock ?? systemClock;
  const state = options.state ?? createFakeState();
  const listeners = driverListeners();
  const supervised = new Set<string>();
  const stops = new Map<string, Promise<void>>();
  const lifetime = new AbortController();

  const info = (r: FakeInstance): InstanceInfo => ({
    id: r.spec.id,
    app: r.spec.app,
    release: r.spec.release,
    process: r.spec.process,
    state: r.state,
    address: r.state === 'running' && r.port !== null ? { host: '127.0.0.1', port: r.port } : null,
    ...(r.process && r.process.alive() ? { pid: r.process.pid } : {}),
    restarts: r.restarts,
    ...(r.lastExit ? { lastExit: r.lastExit } : {}),
  });

  const forgetLogs = (match: (owner: { app: string; release: string }) => boolean) => {
    for (const [id, owner] of state.logOwners) {
      if (!match(owner)) continue;
      state.logs.delete(id);
      state.logOwners.delete(id);
    }
  };

  const current = (r: FakeInstance) => state.instances.get(r.spec.id) === r && !r.stopping && !lifetime.signal.aborted;

  const spawn = async (r: FakeInstance): Promise<FakeProcess> => {
    const spec = r.spec;
    const mask = createMasker(spec.secrets);
    const proc = await spawnFakeProcess({
      pid: state.nextPid++,
      behaviour: r.behaviour,
      env: { ...spec.env, ...berthVariables(spec) },
      port: spec.port,
      preferredPort: r.port,
      clock,
      write: (stream, line) => appendFakeLog(state, { ts: clock.now(), stream, line: mask(line), instance: spec.id }),
    });
    r.process = proc;
    r.processStartedAt = clock.now();
    r.port = proc.port;
    watch(r, proc);
    return proc;
  };

  const watch = (r: FakeInstance, proc: FakeProcess) => {
    void proc.exited.then((exit) => {
      if (current(r) && r.process === proc && r.state === 'running') onExit(r, exit);
    });
  };

  const onExit = (r: FakeInstance, exit: ExitInfo) => {
    const plan = planAfterExit({ id: r.spec.id, policy: r.spec.restart, crashes: r.crashes, restarts: r.restarts, exit });
    r.crashes = plan.crashes;
    r.lastExit = exit;
    if (plan.decision.action === 'restart') {
      r.state = 'restarting';
      r.restartAt = exit.at + plan.decision.delayMs;
      listeners.emit(...plan.events);
      // An exit noticed late (it happened while no driver was running) waits only what is left.
      scheduleRestart(r, Math.max(0, r.restartAt - clock.now()));
    } else {
      r.state = 'crashloop';
      listeners.emit(...plan.events);
    }
  };

  const scheduleRestart = (r: FakeInstance, delayMs: number) => {
    clock.sleep(delayMs, lifetime.signal).then(
      () => void restart(r),
      () => {},
    );
  };

  const restart = async (r: FakeInstance) => {
    if (!current(r) || r.state !== 'restarting') return;
    const proc = await spawn(r);
    if (!current(r)) return proc.kill('SIGKILL');
    r.state = 'running';
    r.restarts += 1;
    delete r.restartAt;
    listeners.emit({ type: 'restarted', id: r.spec.id, address: info(r).address, restarts: r.restarts });
  };

  /** SIGTERM, SIGKILL after the stop timeout; resolves once the process is gone. */
  const endProcess = async (r: FakeInstance) => {
    const proc = r.process;
    if (!proc || !proc.alive()) return;
    proc.kill('SIGTERM');
    const timeout = new AbortController();
    const gone = await Promise.race([
      proc.exited.then(() => true),
      clock.sleep(r.spec.stopTimeoutMs, timeout.signal).then(() => false),
    ]);
    timeout.abort();
    if (!gone) proc.kill('SIGKILL');
    await proc.exited;
  };

  const stopInstance = async (r: FakeInstance) => {
    r.stopping = true;
    await endProcess(r);
    if (state.instances.get(r.spec.id) === r) state.instances.delete(r.spec.id);
    supervised.delete(r.spec.id);
  };

  return {
    name: 'fake',

    async build(request: BuildRequest): Promise<BuildResult> {
      const { artifact, result } = await fakeBuild({ request, clock });
      state.artifacts.set(result.artifact, artifact);
      return result;
    },

    async removeArtifact(artifact: string): Promise<void> {
      state.artifacts.delete(artifact);
    },

    async start(spec: InstanceSpec): Promise<InstanceInfo> {
      const artifact = state.artifacts.get(spec.artifact);
      if (!artifact) throw fail('START_FAILED', { reason: `artifact ${spec.artifact} does not exist` });
      const existing = state.instances.get(spec.id);
      if (existing && (existing.state === 'running' || existing.state === 'restarting')) {
        throw fail('START_FAILED', { reason: `instance ${spec.id} is already running` });
      }
      state.logOwners.set(spec.id, { app: spec.app, release: spec.release });
      const record: FakeInstance = {
        spec: structuredClone(spec),
        behaviour: artifact.behaviour,
        state: 'running',
        port: null,
        restarts: 0,
        crashes: [],
        process: null,
        stopping: false,
      };
      state.instances.set(spec.id, record);
      supervised.add(spec.id);
      const proc = await spawn(record);
      if (record.stopping || state.instances.get(spec.id) !== record) {
        // stop() won the race while the process was starting: end it, as the process driver does.
        proc.kill('SIGKILL');
        await proc.exited;
        throw fail('START_FAILED', { reason: `instance ${spec.id} was stopped while starting` });
      }
      return info(record);
    },

    stop(id: string): Promise<void> {
      const record = state.instances.get(id);
      if (!record) return stops.get(id) ?? Promise.resolve();
      const pending = stops.get(id) ?? stopInstance(record).finally(() => stops.delete(id));
      stops.set(id, pending);
      return pending;
    },

    async inspect(id: string): Promise<InstanceInfo> {
      const record = state.instances.get(id);
      if (record && !record.stopping) return info(record);
      return missingInstance(id);
    },

    async list(): Promise<InstanceInfo[]> {
      return [...state.instances.values()].filter((r) => !r.stopping).map(info);
    },

    async adopt(): Promise<InstanceInfo[]> {
      for (const record of state.instances.values()) {
        if (supervised.has(record.spec.id) || record.stopping) continue;
        supervised.add(record.spec.id);
        const proc = record.process;
        if (record.state === 'running' && proc) {
          if (proc.alive()) watch(record, proc);
          else onExit(record, await proc.exited);
        } else if (record.state === 'restarting') {
          scheduleRestart(record, Math.max(0, (record.restartAt ?? 0) - clock.now()));
        }
      }
      return [...state.instances.values()].map(info);
    },

    logs(id, query) {
      return logStream({
        read: () => [...(state.logs.get(id) ?? [])],
        subscribe: (push: (line: LogLine) => void) => onFakeLog(state, id, push),
        query,
      });
    },

    async removeLogs(app, release) {
      forgetLogs((owner) => owner.app === app && owner.release === release);
    },

    async removeApp(app) {
      forgetLogs((owner) => owner.app === app);
    },

    async holdings() {
      const apps = new Set([...state.instances.values()].map((r) => r.spec.app));
      for (const owner of state.logOwners.values()) apps.add(owner.app);
      return { apps: [...apps], artifacts: fakeArtifacts(state) };
    },

    async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
      const artifact = state.artifacts.get(spec.artifact);
      if (!artifact) throw fail('START_FAILED', { reason: `artifact ${spec.artifact} does not exist` });
      const mask = createMasker(spec.secrets);
      const plan = artifact.behaviour.oneOff?.[spec.command] ?? {};
      for (const line of plan.output ?? []) spec.onLine({ stream: 'stdout', line: mask(expand(line, spec.env)) });
      const delay = plan.delayMs ?? 0;
      if (delay > spec.timeoutMs) {
        await clock.sleep(spec.timeoutMs, spec.signal);
        return { exitCode: null, timedOut: true };
      }
      if (delay > 0) await clock.sleep(delay, spec.signal);
      return { exitCode: plan.exitCode ?? 0, timedOut: false };
    },

    async restart(id: string): Promise<void> {
      const r = state.instances.get(id);
      // Not stopping: the exit handler then sees an exit nobody asked for, a crash by the policy.
      if (r && current(r) && r.state === 'running') await endProcess(r);
    },

    async checkHealth(id: string, check: HealthCheck): Promise<HealthResult> {
      const r = state.instances.get(id);
      if (!r || r.state !== 'running') return { ok: false, detail: `instance ${id} is not running` };
      if (check.heartbeat) {
        if (check.heartbeat.file !== r.behaviour.heartbeatFile) return { ok: false, detail: `heartbeat ${check.heartbeat.file} does not exist yet` };
        const hung = r.behaviour.hangAfterMs !== undefined && clock.now() - (r.processStartedAt ?? 0) > r.behaviour.hangAfterMs;
        return hung ? { ok: false, detail: `heartbeat ${check.heartbeat.file} is stale` } : { ok: true, detail: 'heartbeat fresh' };
      }
      const literal = /^exit (\d+)$/.exec(check.command ?? '');
      if (literal) return literal[1] === '0' ? { ok: true, detail: 'exited 0' } : { ok: false, detail: `exited with code ${literal[1]}` };
      return r.behaviour.check === 'fail' ? { ok: false, detail: 'the check failed' } : { ok: true, detail: 'ok' };
    },

    subscribe: listeners.subscribe,

    async close(): Promise<void> {
      lifetime.abort();
      listeners.clear();
    },
  };
}
