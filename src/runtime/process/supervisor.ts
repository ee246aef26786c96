/**
 * Runs and watches the instances of one process driver: spawns them, notices exits (as the parent of the
 * processes it started; by polling pid + start time for those adopted after a daemon restart), restarts
 * them per the shared restart policy, and persists every change to the instance's state file.
 */
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { fail } from '../../errors/catalogue.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { DriverEvent, ExitInfo, InstanceInfo, InstanceSpec } from '../driver.ts';
import { planAfterExit } from '../restart-policy.ts';
import type { AppUser } from './app-users.ts';
import { infoFromState } from './instance-info.ts';
import { assertSafeName, logFiles, type Layout } from './layout.ts';
import type { LogCollector, LogSource } from './log-collector.ts';
import { ownedGroups } from './owned.ts';
import { allocatePort, isPortFree } from './ports.ts';
import { isSameProcessAlive, signalGroup } from '../../lib/proc.ts';
import { launchInstance } from './spawn-instance.ts';
import { removeState, writeState, type InstanceState } from './state-file.ts';
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

export interface Supervisor {
  start(spec: InstanceSpec): Promise<InstanceInfo>;
  /** Resumes supervising an instance from its state file (after a daemon restart). */
  adopt(state: InstanceState): void;
  /** Ends a running instance's processes as a crash would: the restart policy brings it back. */
  restart(id: string): Promise<void>;
  /** Stops an instance it supervises (or only knows from a state file), then forgets it. */
  stop(id: string, fallback: InstanceState | null, orphanTimeoutMs: number): Promise<void>;
  info(id: string): InstanceInfo | undefined;
  infos(): InstanceInfo[];
  close(): Promise<void>;
}

export function createSupervisor(context: SupervisorContext): Supervisor {
  const { layout, ownerId, clock, log, collector } = context;
  const entries = new Map<string, Entry>();
  let closed = false;

  const sourceOf = (spec: InstanceSpec): LogSource => ({ id: spec.id, files: logFiles(layout, spec), secrets: spec.secrets });
  const persist = (entry: Entry) => writeState(layout, entry.state);
  const current = (entry: Entry) => !closed && !entry.stopping && entries.get(entry.state.spec.id) === entry;
  const portsInUse = (except?: Entry) =>
    new Set([...entries.values()].filter((e) => e !== except && e.state.port !== null).map((e) => e.state.port!));
  const stopPoll = (entry: Entry) => {
    entry.poll?.();
    entry.poll = null;
  };

  const launch = async (entry: Entry, port: number | null) => {
    const spec = entry.state.spec;
    const straysKilled = entry.straysKilled;
    entry.straysKilled = false;
    const user = await context.userFor(spec);
    const spawned = await launchInstance({
      spec,
      port,
      ownerId,
      binPath: context.binPath,
      files: sourceOf(spec).files,
      user,
      straysKilled,
      onExit: (child, exit) => {
        if (entry.child === child && current(entry)) handleExit(entry, { ...exit, at: clock.now() });
      },
    });
    entry.child = spawned.child;
    entry.state = { ...entry.state, pid: spawned.pid, startTime: spawned.startTime, port, startedAt: clock.now() };
    collector.add(sourceOf(spec));
  };

  const watchAdopted = (entry: Entry) => {
    const { pid, startTime } = entry.state;
    entry.poll = watchUntilGone({
      pid: pid!,
      startTime,
      intervalMs: context.pollMs,
      onGone: () => {
        entry.poll = null;
        if (current(entry) && entry.state.pid === pid) handleExit(entry, { code: null, signal: null, at: clock.now() });
      },
    });
  };

  const handleExit = (entry: Entry, exit: ExitInfo) => {
    const spec = entry.state.spec;
    entry.child = null;
    stopPoll(entry);
    // The leader is gone; whatever it started must not keep running (or holding the port) unsupervised.
    for (const group of ownedGroups(ownerId, { instance: spec.id })) signalGroup(group, 'SIGKILL');
    entry.straysKilled = true;
    try {
      collector.collect(sourceOf(spec), { final: true });
    } catch (error) {
      log.warn('log collection failed', { instance: spec.id, error: error as Error });
    }
    const plan = planAfterExit({ id: spec.id, policy: spec.restart, crashes: entry.state.crashes, restarts: entry.state.restarts, exit });
    const base = { ...entry.state, pid: null, startTime: null, crashes: plan.crashes, lastExit: exit };
    if (plan.decision.action === 'restart') {
      const restartAt = exit.at + plan.decision.delayMs;
      entry.state = { ...base, state: 'restarting', restartAt };
      persist(entry);
      log.info('instance exited, restarting', { instance: spec.id, code: exit.code, signal: exit.signal, delayMs: plan.decision.delayMs });
      context.emit(plan.events);
      scheduleRestart(entry, Math.max(0, restartAt - clock.now()));
    } else {
      entry.state = { ...base, state: 'crashloop' };
      delete entry.state.restartAt;
      persist(entry);
      collector.remove(spec.id);
      log.warn('instance is crash-looping', { instance: spec.id, code: exit.code, signal: exit.signal });
      context.emit(plan.events);
    }
  };

  const scheduleRestart = (entry: Entry, delayMs: number) => {
    const abort = new AbortController();
    entry.restart = abort;
    clock.sleep(delayMs, abort.signal).then(
      () => {
        entry.restart = null;
        entry.launching = relaunch(entry)
          .catch((error) => log.error('restart failed', { instance: entry.state.spec.id, error: error as Error }))
          .finally(() => (entry.launching = null));
      },
      () => {},
    );
  };

  const relaunch = async (entry: Entry) => {
    if (!current(entry) || entry.state.state !== 'restarting') return;
    const spec = entry.state.spec;
    let port: number | null = null;
    if (spec.port) {
      const previous = entry.state.port;
      const others = portsInUse(entry);
      port = previous !== null && !others.has(previous) && (await isPortFree(previous)) ? previous : await allocatePort(others);
      entry.state.port = port;
    }
    if (!current(entry)) return;
    try {
      await launch(entry, port);
    } catch (error) {
      log.warn('restart failed', { instance: spec.id, error: error as Error });
      if (current(entry)) handleExit(entry, { code: 127, signal: null, at: clock.now() });
      return;
    }
    // The process exists now: record it even if the driver closed meanwhile, or a later adopt() would start a twin.
    entry.state = { ...entry.state, state: 'running', restarts: entry.state.restarts + 1 };
    delete entry.state.restartAt;
    if (entry.stopping) return;
    persist(entry);
    if (!closed) context.emit([{ type: 'restarted', id: spec.id, address: infoFromState(entry.state).address, restarts: entry.state.restarts }]);
  };

  const detailOf = (entry: Entry) => ({ supervision: entry.child ? 'child' : entry.poll ? 'poll' : 'none' });

  return {
    async start(spec) {
      for (const [what, value] of [['instance id', spec.id], ['app', spec.app], ['release', spec.release], ['process', spec.process]]) {
        assertSafeName(what, value, 'START_FAILED');
      }
      if (closed) throw fail('START_FAILED', { reason: 'the runtime driver is closed' });
      if (entries.has(spec.id)) throw fail('START_FAILED', { reason: `instance ${spec.id} already exists` });
      if (!isDirectory(spec.artifact)) throw fail('START_FAILED', { reason: `artifact ${spec.artifact} does not exist` });
      const now = clock.now();
      const entry: Entry = {
        state: { version: 1, spec: structuredClone(spec), state: 'running', pid: null, startTime: null, port: null, restarts: 0, crashes: [], startedAt: now },
        child: null,
        poll: null,
        restart: null,
        launching: null,
        stopping: false,
        straysKilled: false,
      };
      entries.set(spec.id, entry);
      // One promise for port and spawn, so a stop() arriving meanwhile waits for the process to exist.
      entry.launching = (async () => {
        entry.state.port = spec.port ? await allocatePort(portsInUse(entry)) : null;
        await launch(entry, entry.state.port);
      })();
      try {
        await entry.launching;
      } catch (error) {
        if (entries.get(spec.id) === entry) entries.delete(spec.id);
        collector.remove(spec.id);
        throw error;
      } finally {
        entry.launching = null;
      }
      // stop() won the race: it has ended the process; recording it would bring back a stopped instance.
      if (entry.stopping) throw fail('START_FAILED', { reason: `instance ${spec.id} was stopped while starting` });
      persist(entry);
      log.info('instance started', { instance: spec.id, app: spec.app, release: spec.release, process: spec.process, pid: entry.state.pid });
      return infoFromState(entry.state, detailOf(entry));
    },

    adopt(state) {
      const id = state.spec.id;
      if (closed || entries.has(id)) return;
      const entry: Entry = { state, child: null, poll: null, restart: null, launching: null, stopping: false, straysKilled: false };
      entries.set(id, entry);
      if (state.state === 'crashloop') return;
      collector.add(sourceOf(state.spec));
      if (state.state === 'restarting') {
        scheduleRestart(entry, Math.max(0, (state.restartAt ?? 0) - clock.now()));
      } else if (state.pid !== null && isSameProcessAlive(state.pid, state.startTime)) {
        watchAdopted(entry);
      } else {
        // It died while no daemon was watching: a crash like any other, noticed now.
        handleExit(entry, { code: null, signal: null, at: clock.now() });
      }
    },

    async stop(id, fallback, orphanTimeoutMs) {
      const entry = entries.get(id);
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
          collector.collect(sourceOf(state.spec), { final: true });
        } catch (error) {
          log.warn('log collection failed', { instance: id, error: error as Error });
        }
      }
      collector.remove(id);
      removeState(layout, id);
      if (entry && entries.get(id) === entry) entries.delete(id);
      log.info('instance stopped', { instance: id });
    },

    async restart(id) {
      const entry = entries.get(id);
      if (!entry || !current(entry) || entry.state.state !== 'running') return;
      await entry.launching?.catch(() => {});
      const pid = entry.state.pid;
      if (pid === null || !current(entry)) return;
      // Not marked stopping: the exit handler (child exit or adopted poll) sees an exit berth did not ask
      // for, which the restart policy counts as a crash, with the usual events and back-off.
      const groups = new Set([pid, ...ownedGroups(ownerId, { instance: id })]);
      await terminateGroups({ groups: [...groups], timeoutMs: entry.state.spec.stopTimeoutMs, clock });
    },

    info(id) {
      const entry = entries.get(id);
      return entry && !entry.stopping ? infoFromState(entry.state, detailOf(entry)) : undefined;
    },

    infos() {
      return [...entries.values()].filter((e) => !e.stopping).map((e) => infoFromState(e.state, detailOf(e)));
    },

    async close() {
      closed = true;
      for (const entry of entries.values()) {
        entry.restart?.abort();
        stopPoll(entry);
      }
      await Promise.allSettled([...entries.values()].map((e) => e.launching));
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
