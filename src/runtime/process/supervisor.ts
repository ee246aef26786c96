/**
 * Runs and watches the instances of one process driver: spawns them, notices exits (as the parent of the
 * processes it started; by polling pid + start time for those adopted after a daemon restart), restarts
 * them per the shared restart policy, and persists every change to the instance's state file. How the
 * record changes, and what adopt() does with one, is ./supervision-policy.ts (pure); spawning is
 * ./spawn-instance.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { fail } from '../../errors/catalogue.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import { isSameProcessAlive, signalGroup } from '../../lib/proc.ts';
import type { DriverEvent, ExitInfo, InstanceInfo, InstanceSpec } from '../driver.ts';
import type { AppUser } from './app-users.ts';
import { infoFromState } from './instance-info.ts';
import { assertSafeName, logFiles, type Layout } from './layout.ts';
import type { LogCollector, LogSource } from './log-collector.ts';
import { ownedGroups } from './owned.ts';
import { allocatePort, isPortFree } from './ports.ts';
import { launchInstance } from './spawn-instance.ts';
import { removeState, writeState, type InstanceState } from './state-file.ts';
import { adoptionStep, afterExit, relaunched } from './supervision-policy.ts';
import { terminateGroups } from './terminate.ts';
import { watchUntilGone } from './watch-pid.ts';

export interface SupervisorContext {
  layout: Layout;
  ownerId: string;
  binPath: string[];
  clock: Clock;
  log: Logger;
  collector: LogCollector;
  emit: (events: DriverEvent[]) => void;
  /** How often an adopted instance (not our child) is checked for life. */
  pollMs: number;
  /** The user an instance runs as, with its artifact handed to that user; null: the daemon's own. */
  userFor: (spec: InstanceSpec) => Promise<AppUser | null>;
}

interface Entry {
  state: InstanceState;
  child: ChildProcess | null;
  /** Cancels the liveness poll of an adopted instance. */
  poll: (() => void) | null;
  restart: AbortController | null;
  launching: Promise<void> | null;
  stopping: boolean;
  /** handleExit killed whatever the last process left, so the relaunch need not look for strays again. */
  straysKilled: boolean;
}

const newEntry = (state: InstanceState): Entry => ({ state, child: null, poll: null, restart: null, launching: null, stopping: false, straysKilled: false });

export class ProcessSupervisor {
  readonly #context: SupervisorContext;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(context: SupervisorContext) {
    this.#context = context;
  }

  async start(spec: InstanceSpec): Promise<InstanceInfo> {
    for (const [what, value] of [['instance id', spec.id], ['app', spec.app], ['release', spec.release], ['process', spec.process]]) {
      assertSafeName(what, value, 'START_FAILED');
    }
    if (this.#closed) throw fail('START_FAILED', { reason: 'the runtime driver is closed' });
    if (this.#entries.has(spec.id)) throw fail('START_FAILED', { reason: `instance ${spec.id} already exists` });
    if (!isDirectory(spec.artifact)) throw fail('START_FAILED', { reason: `artifact ${spec.artifact} does not exist` });
    const now = this.#context.clock.now();
    const entry = newEntry({ version: 1, spec: structuredClone(spec), state: 'running', pid: null, startTime: null, port: null, restarts: 0, crashes: [], startedAt: now });
    this.#entries.set(spec.id, entry);
    // One promise for port and spawn, so a stop() arriving meanwhile waits for the process to exist.
    entry.launching = (async () => {
      entry.state.port = spec.port ? await allocatePort(this.#portsInUse(entry)) : null;
      await this.#launch(entry, entry.state.port);
    })();
    try {
      await entry.launching;
    } catch (error) {
      if (this.#entries.get(spec.id) === entry) this.#entries.delete(spec.id);
      this.#context.collector.remove(spec.id);
      throw error;
    } finally {
      entry.launching = null;
    }
    // stop() won the race: it has ended the process; recording it would bring back a stopped instance.
    if (entry.stopping) throw fail('START_FAILED', { reason: `instance ${spec.id} was stopped while starting` });
    this.#persist(entry);
    this.#context.log.info('instance started', { instance: spec.id, app: spec.app, release: spec.release, process: spec.process, pid: entry.state.pid });
    return infoFromState(entry.state, detailOf(entry));
  }

  /** Resumes supervising an instance from its state file (after a daemon restart). */
  adopt(state: InstanceState): void {
    const id = state.spec.id;
    if (this.#closed || this.#entries.has(id)) return;
    const entry = newEntry(state);
    this.#entries.set(id, entry);
    const step = adoptionStep(state, isSameProcessAlive);
    if (step === 'leave') return;
    this.#context.collector.add(this.#sourceOf(state.spec));
    switch (step) {
      case 'restart':
        this.#scheduleRestart(entry, Math.max(0, (state.restartAt ?? 0) - this.#context.clock.now()));
        return;
      case 'watch':
        this.#watchAdopted(entry);
        return;
      case 'exited':
        this.#handleExit(entry, { code: null, signal: null, at: this.#context.clock.now() });
        return;
    }
  }

  /** Stops an instance it supervises (or only knows from a state file), then forgets it. */
  async stop(id: string, fallback: InstanceState | null, orphanTimeoutMs: number): Promise<void> {
    const { ownerId, clock, log, collector, layout } = this.#context;
    const entry = this.#entries.get(id);
    if (entry) {
      entry.stopping = true;
      entry.restart?.abort();
      stopPoll(entry);
      await entry.launching?.catch(() => {});
    }
    const state = entry?.state ?? fallback;
    const groups = new Set(ownedGroups(ownerId, { instance: id }));
    if (state?.pid && isSameProcessAlive(state.pid, state.startTime)) groups.add(state.pid);
    if (groups.size > 0) await terminateGroups({ groups: [...groups], timeoutMs: state?.spec.stopTimeoutMs ?? orphanTimeoutMs, clock });
    if (state) {
      try {
        collector.collect(this.#sourceOf(state.spec), { final: true });
      } catch (error) {
        log.warn('log collection failed', { instance: id, error: error as Error });
      }
    }
    collector.remove(id);
    removeState(layout, id);
    if (entry && this.#entries.get(id) === entry) this.#entries.delete(id);
    log.info('instance stopped', { instance: id });
  }

  /** Ends a running instance's processes as a crash would: the restart policy brings it back. */
  async restart(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry || !this.#current(entry) || entry.state.state !== 'running') return;
    await entry.launching?.catch(() => {});
    const pid = entry.state.pid;
    if (pid === null || !this.#current(entry)) return;
    // Not marked stopping: the exit handler (child exit or adopted poll) sees an exit berth did not ask
    // for, which the restart policy counts as a crash, with the usual events and back-off.
    const groups = new Set([pid, ...ownedGroups(this.#context.ownerId, { instance: id })]);
    await terminateGroups({ groups: [...groups], timeoutMs: entry.state.spec.stopTimeoutMs, clock: this.#context.clock });
  }

  info(id: string): InstanceInfo | undefined {
    const entry = this.#entries.get(id);
    return entry && !entry.stopping ? infoFromState(entry.state, detailOf(entry)) : undefined;
  }

  infos(): InstanceInfo[] {
    return [...this.#entries.values()].filter((e) => !e.stopping).map((e) => infoFromState(e.state, detailOf(e)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#entries.values()) {
      entry.restart?.abort();
      stopPoll(entry);
    }
    await Promise.allSettled([...this.#entries.values()].map((e) => e.launching));
  }

  #sourceOf(spec: InstanceSpec): LogSource {
    return { id: spec.id, files: logFiles(this.#context.layout, spec), secrets: spec.secrets };
  }

  #persist(entry: Entry): void {
    writeState(this.#context.layout, entry.state);
  }

  #current(entry: Entry): boolean {
    return !this.#closed && !entry.stopping && this.#entries.get(entry.state.spec.id) === entry;
  }

  #portsInUse(except?: Entry): Set<number> {
    return new Set([...this.#entries.values()].filter((e) => e !== except && e.state.port !== null).map((e) => e.state.port!));
  }

  /** Spawns the instance's process on `port` and starts collecting its output. */
  async #launch(entry: Entry, port: number | null): Promise<void> {
    const { ownerId, binPath, clock, collector } = this.#context;
    const spec = entry.state.spec;
    const straysKilled = entry.straysKilled;
    entry.straysKilled = false;
    const user = await this.#context.userFor(spec);
    const spawned = await launchInstance({
      spec,
      port,
      ownerId,
      binPath,
      files: this.#sourceOf(spec).files,
      user,
      straysKilled,
      onExit: (child, exit) => {
        if (entry.child === child && this.#current(entry)) this.#handleExit(entry, { ...exit, at: clock.now() });
      },
    });
    entry.child = spawned.child;
    entry.state = { ...entry.state, pid: spawned.pid, startTime: spawned.startTime, port, startedAt: clock.now() };
    collector.add(this.#sourceOf(spec));
  }

  #watchAdopted(entry: Entry): void {
    const { pid, startTime } = entry.state;
    entry.poll = watchUntilGone({
      pid: pid!,
      startTime,
      intervalMs: this.#context.pollMs,
      onGone: () => {
        entry.poll = null;
        if (this.#current(entry) && entry.state.pid === pid) this.#handleExit(entry, { code: null, signal: null, at: this.#context.clock.now() });
      },
    });
  }

  #handleExit(entry: Entry, exit: ExitInfo): void {
    const { ownerId, clock, log, collector } = this.#context;
    const spec = entry.state.spec;
    entry.child = null;
    stopPoll(entry);
    // The leader is gone; whatever it started must not keep running (or holding the port) unsupervised.
    for (const group of ownedGroups(ownerId, { instance: spec.id })) signalGroup(group, 'SIGKILL');
    entry.straysKilled = true;
    try {
      collector.collect(this.#sourceOf(spec), { final: true });
    } catch (error) {
      log.warn('log collection failed', { instance: spec.id, error: error as Error });
    }
    const { state, plan } = afterExit(entry.state, exit);
    entry.state = state;
    this.#persist(entry);
    if (plan.decision.action === 'restart') {
      log.info('instance exited, restarting', { instance: spec.id, code: exit.code, signal: exit.signal, delayMs: plan.decision.delayMs });
      this.#context.emit(plan.events);
      this.#scheduleRestart(entry, Math.max(0, exit.at + plan.decision.delayMs - clock.now()));
    } else {
      collector.remove(spec.id);
      log.warn('instance is crash-looping', { instance: spec.id, code: exit.code, signal: exit.signal });
      this.#context.emit(plan.events);
    }
  }

  #scheduleRestart(entry: Entry, delayMs: number): void {
    const abort = new AbortController();
    entry.restart = abort;
    this.#context.clock.sleep(delayMs, abort.signal).then(
      () => {
        entry.restart = null;
        entry.launching = this.#relaunch(entry)
          .catch((error) => this.#context.log.error('restart failed', { instance: entry.state.spec.id, error: error as Error }))
          .finally(() => (entry.launching = null));
      },
      () => {},
    );
  }

  async #relaunch(entry: Entry): Promise<void> {
    if (!this.#current(entry) || entry.state.state !== 'restarting') return;
    const spec = entry.state.spec;
    let port: number | null = null;
    if (spec.port) {
      // The port it had, unless another instance took it meanwhile.
      const previous = entry.state.port;
      const others = this.#portsInUse(entry);
      port = previous !== null && !others.has(previous) && (await isPortFree(previous)) ? previous : await allocatePort(others);
      entry.state.port = port;
    }
    if (!this.#current(entry)) return;
    try {
      await this.#launch(entry, port);
    } catch (error) {
      this.#context.log.warn('restart failed', { instance: spec.id, error: error as Error });
      if (this.#current(entry)) this.#handleExit(entry, { code: 127, signal: null, at: this.#context.clock.now() });
      return;
    }
    // The process exists now: record it even if the driver closed meanwhile, or a later adopt() would start a twin.
    entry.state = relaunched(entry.state);
    if (entry.stopping) return;
    this.#persist(entry);
    if (!this.#closed) this.#context.emit([{ type: 'restarted', id: spec.id, address: infoFromState(entry.state).address, restarts: entry.state.restarts }]);
  }
}

function stopPoll(entry: Entry): void {
  entry.poll?.();
  entry.poll = null;
}

function detailOf(entry: Entry): Record<string, string> {
  return { supervision: entry.child ? 'child' : entry.poll ? 'poll' : 'none' };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
