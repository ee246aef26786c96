/**
 * An in-memory RuntimeDriver for fast tests of what sits above the runtime. Instances are real HTTP
 * servers on 127.0.0.1 behaving as their artifact's `.berth-fake.json` says; supervision, stop timeouts,
 * log masking and adoption follow the same rules as the process driver (shared restart policy, shared
 * build plan; ./supervisor.ts), and time is the given Clock, so a ManualClock drives crashes, back-offs
 * and timeouts.
 */
import { fail } from '../../errors/catalogue.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { AccessoryRuntime, BuildRequest, BuildResult, HealthCheck, HealthResult, ImageRuntime, InstanceInfo, InstanceSpec, InstanceUsage, LogLine, LogPruneResult, LogQuery, OneOffResult, OneOffSpec, RuntimeDriver } from '../driver.ts';
import { driverListeners, missingInstance, type DriverListeners } from '../listeners.ts';
import { logStream } from '../log-stream.ts';
import { fakeBuild } from './build.ts';
import { fakeHealth, runFakeOneOff } from './checks.ts';
import { FakeImages, FakeServices, type FakeRemoteImages } from './images.ts';
import { createFakeState, fakeArtifacts, fakeInfo, forgetFakeLogs, onFakeLog, type FakeInstance, type FakeState } from './state.ts';
import { FakeSupervisor } from './supervisor.ts';

export interface FakeDriverOptions {
  clock?: Clock;
  /** Shared with a later driver to simulate a daemon restart; a fresh state when absent. */
  state?: FakeState;
  /** What the registries hold: given, the driver runs images and services as a container runtime does (./images.ts). */
  images?: FakeRemoteImages;
}

export function createFakeDriver(options: FakeDriverOptions = {}): RuntimeDriver {
  return new FakeDriver(options);
}

export class FakeDriver implements RuntimeDriver {
  readonly name = 'fake';
  readonly subscribe: DriverListeners['subscribe'];
  readonly images?: ImageRuntime;
  readonly services?: AccessoryRuntime;
  readonly #clock: Clock;
  readonly #state: FakeState;
  readonly #listeners: DriverListeners;
  readonly #supervisor: FakeSupervisor;
  readonly #stops = new Map<string, Promise<void>>();

  constructor(options: FakeDriverOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#state = options.state ?? createFakeState();
    this.#listeners = driverListeners();
    this.subscribe = this.#listeners.subscribe;
    this.#supervisor = new FakeSupervisor({ state: this.#state, clock: this.#clock, emit: (...events) => this.#listeners.emit(...events) });
    if (options.images) {
      this.images = new FakeImages(this.#state, options.images);
      this.services = new FakeServices(this.images);
    }
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    const { artifact, result } = await fakeBuild({ request, clock: this.#clock });
    this.#state.artifacts.set(result.artifact, artifact);
    return result;
  }

  async removeArtifact(artifact: string): Promise<void> {
    this.#state.artifacts.delete(artifact);
  }

  async start(spec: InstanceSpec): Promise<InstanceInfo> {
    const state = this.#state;
    // An image not on the machine yet is pulled first, as a container runtime does (a failed pull starts nothing).
    if (this.images && !state.artifacts.has(spec.artifact)) await this.images.ensure(spec.artifact, spec.onPull ? { onPull: spec.onPull } : {});
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
    const proc = await this.#supervisor.launch(record);
    if (record.stopping || state.instances.get(spec.id) !== record) {
      // stop() won the race while the process was starting: end it, as the process driver does.
      proc.kill('SIGKILL');
      await proc.exited;
      throw fail('START_FAILED', { reason: `instance ${spec.id} was stopped while starting` });
    }
    return fakeInfo(record);
  }

  stop(id: string): Promise<void> {
    const record = this.#state.instances.get(id);
    if (!record) return this.#stops.get(id) ?? Promise.resolve();
    const pending = this.#stops.get(id) ?? this.#supervisor.stop(record).finally(() => this.#stops.delete(id));
    this.#stops.set(id, pending);
    return pending;
  }

  async inspect(id: string): Promise<InstanceInfo> {
    const record = this.#state.instances.get(id);
    if (record && !record.stopping) return fakeInfo(record);
    return missingInstance(id);
  }

  async list(): Promise<InstanceInfo[]> {
    return [...this.#state.instances.values()].filter((r) => !r.stopping).map(fakeInfo);
  }

  async adopt(): Promise<InstanceInfo[]> {
    await this.#supervisor.adopt();
    return [...this.#state.instances.values()].map(fakeInfo);
  }

  logs(id: string, query: LogQuery): AsyncIterable<LogLine> {
    return logStream({
      read: () => [...(this.#state.logs.get(id) ?? [])],
      subscribe: (push: (line: LogLine) => void) => onFakeLog(this.#state, id, push),
      query,
    });
  }

  async removeLogs(app: string, release: string): Promise<void> {
    forgetFakeLogs(this.#state, (owner) => owner.app === app && owner.release === release);
  }

  /** The fake keeps lines in memory: those older than the cutoff go; an instance left with none, entirely. */
  async pruneLogs(olderThan: number): Promise<LogPruneResult> {
    const result = { files: 0, lines: 0 };
    for (const [id, lines] of this.#state.logs) {
      const kept = lines.filter((l) => l.ts >= olderThan);
      result.lines += lines.length - kept.length;
      if (kept.length > 0 || this.#state.instances.has(id)) this.#state.logs.set(id, kept);
      else {
        result.files++;
        this.#state.logs.delete(id);
        this.#state.logOwners.delete(id);
      }
    }
    return result;
  }

  async removeApp(app: string): Promise<void> {
    forgetFakeLogs(this.#state, (owner) => owner.app === app);
  }

  async holdings(): Promise<{ apps: string[]; artifacts: string[] }> {
    const apps = new Set([...this.#state.instances.values()].map((r) => r.spec.app));
    for (const owner of this.#state.logOwners.values()) apps.add(owner.app);
    return { apps: [...apps], artifacts: fakeArtifacts(this.#state) };
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    if (this.images && !this.#state.artifacts.has(spec.artifact)) await this.images.ensure(spec.artifact, { signal: spec.signal });
    return runFakeOneOff(this.#state.artifacts.get(spec.artifact), spec, this.#clock);
  }

  restart(id: string): Promise<void> {
    return this.#supervisor.restart(id);
  }

  /** The fake's own counters of each live instance (./process.ts: FakeProcess.usage). */
  async usage(ids: readonly string[]): Promise<InstanceUsage[]> {
    return [...new Set(ids)].flatMap((id) => {
      const record = this.#state.instances.get(id);
      const proc = record && !record.stopping && record.state === 'running' ? record.process : null;
      if (!proc || !proc.alive()) return [];
      return [{ id, ...proc.usage(), memoryLimitBytes: record!.spec.resources?.memoryBytes ?? null }];
    });
  }

  async checkHealth(id: string, check: HealthCheck): Promise<HealthResult> {
    return fakeHealth(id, this.#state.instances.get(id), check, this.#clock.now());
  }

  async close(): Promise<void> {
    this.#supervisor.close();
    this.#listeners.clear();
  }
}
