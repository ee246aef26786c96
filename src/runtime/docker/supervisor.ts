/**
 * Supervision of the docker driver's instances, with the process driver's semantics: every exit berth did
 * not ask for is a crash (whatever its code), restarted after the policy's back-off (../restart-policy.ts),
 * and more than `maxRestarts` crashes inside `windowMs` is a crash loop, left stopped and reported.
 *
 * Why berth restarts containers itself, and the engine does not (RestartPolicy `no`, ./container-spec.ts):
 * the engine's policies cannot express berth's. `on-failure:N` counts restarts over the container's whole
 * life (no window) and ignores an exit with code 0; every policy uses the engine's own back-off (100 ms,
 * doubling, reset after 10 s up), and none can be stopped from restarting before it does. So on each `die`
 * berth decides with planAfterExit and, after the back-off, starts the same container again
 * (POST /containers/{id}/start: same name, network, IP when free, logs kept).
 *
 * The trade-off, while berth's daemon is down: nothing restarts a container that exits; it stays down until
 * the daemon is back, and adopt() handles the exit then. Containers that keep running are untouched. After
 * a host reboot the engine does not start berth's containers either: berth's daemon does, on start-up
 * (adopt()). An engine policy for those periods cannot be had without giving up berth's back-off: the
 * engine applies it the moment a container exits, before berth hears of it; and switching it on only when
 * berth's daemon stops (a container update) would miss a daemon that dies, besides the engine port having
 * no update call.
 *
 * An exit no daemon watched (adopt() finds the container stopped while its record says `running`) is
 * judged by its shape, since the engine's `kill` events of that time are gone (an engine restart or a
 * reboot loses them): an exit that looks like the engine's stop is put down to the engine stopping the
 * container (an engine restart or upgrade, a host reboot, `docker stop`), not a crash: the instance is
 * started again at once and nothing is counted, so an app with `max_restarts` 0 survives a reboot. The
 * engine's stop sends the stop signal (SIGTERM unless the image says otherwise), then SIGKILL after the
 * stop timeout, so its shapes are: code 128 + the stop signal (143), 137 unless the engine says out of
 * memory, and 0 (an app that shuts down cleanly on SIGTERM, as well-behaved ones do). Any other exit (an
 * app that failed on its own: 1, 3, a segfault's 139, an OOM kill) is a crash noticed late and counts, as
 * the process driver counts its detached processes that died while no daemon watched. What this gives
 * away: an app that ends on its own with one of those codes while no daemon watches is started again
 * without a count (it is restarted either way; only the crash-loop accounting misses that one exit).
 *
 * What the engine does behind berth's back is read from its event stream (`die`, `start`, `kill`, `oom`)
 * and, after the stream was lost, from the containers themselves (resync()):
 *  - A container started by anyone (berth's back-off, an operator, the engine) is inspected again; when its
 *    address changed, `restarted` says so, so the deploy layer re-routes.
 *  - An exit that follows a `kill` berth did not send (the engine stopping containers as it shuts down, or
 *    `docker stop` by hand), or that happened while the event stream was down (the engine restarting), is
 *    not a crash: the instance is started again at once and nothing is counted.
 *    A dockerd shutting down (20.10) still answers on connections already open, so berth may start a
 *    container again on the engine that is going away; the engine then stops it, and once it is back the
 *    resync starts it again and reports where it is. The last `restarted` event is always the truth.
 *  - Out of memory only when the engine says so: State.OOMKilled or an `oom` event for that run.
 *
 * Every change to an instance (start, stop, restart, event handling) runs in that instance's queue
 * (serial()), so they never interleave, and its record is saved (./supervision-state.ts) at each change.
 */
import { constants } from 'node:os';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { Address, DriverEvent, ExitInfo, RestartPolicy } from '../driver.ts';
import { planAfterExit } from '../restart-policy.ts';
import type { ContainerInspect, DockerEngine, EngineEvent } from './engine.ts';
import { addressOf, engineMs, exitOf, legacyGaveUp, policyOf, sameAddress } from './inspect-info.ts';
import { containerName, LABEL } from './names.ts';
import type { SupervisionState, SupervisionStore } from './supervision-state.ts';

/** How long an exit with code 137 of a memory-limited container waits for the engine's late `oom` event. */
const OOM_GRACE_MS = 500;
/** When the engine does not answer, the instance is looked at again this much later. */
const RETRY_MS = 2_000;
/** Starts that fail after an exit that was not a crash are retried this often before they count as one. */
const OUTSIDE_START_TRIES = 3;
/** Exits this long before the event stream was lost are still put down to the engine going away. */
const OUTAGE_SLACK_MS = 5_000;
/** A `kill` counts for an exit up to the container's stop timeout plus this much before it. */
const KILL_SLACK_MS = 5_000;

export interface DockerSupervisorOptions {
  engine: DockerEngine;
  store: SupervisionStore;
  clock: Clock;
  log: Logger;
  emit: (events: DriverEvent[]) => void;
}

export interface DockerSupervisor {
  /** Runs `op` after everything already queued for the instance. */
  serial<T>(id: string, op: () => Promise<T>): Promise<T>;
  /** A container start() just started (call inside serial()): supervise it with a fresh record. */
  started(container: ContainerInspect): SupervisionState;
  /** stop()/removeApp() begin: the instance's events and timers are ignored until release(). */
  hold(id: string): void;
  release(id: string): void;
  /** Forgets the instance and deletes its record (stopped, or about to be started afresh). */
  forget(id: string): void;
  /** Ends the container's process (stop timeout, then SIGKILL); the exit is handled as a crash. */
  restart(id: string): Promise<void>;
  /** The record of an instance, supervised here or left on disk by an earlier daemon. */
  record(id: string): SupervisionState | undefined;
  /** Resumes supervising the containers found (and handles what happened while no daemon watched). */
  adopt(containers: ContainerInspect[]): Promise<void>;
  /** An engine event of one of berth's instances, in stream order. */
  onEvent(event: EngineEvent): void;
  /** The event stream ended or failed: what happens from now until resync() is the engine's doing. */
  streamLost(): void;
  /** The stream is back: looks at every supervised instance again. */
  resync(): Promise<void>;
  close(): Promise<void>;
}

interface Supervised {
  state: SupervisionState;
  policy: RestartPolicy;
  /** The address last reported (start, adopt, restarted), so a change is reported once. */
  address: Address | null;
  /** A pending restart (back-off) or a retry. */
  timer: AbortController | null;
  /** Failed starts in a row after an exit that was not a crash (an engine shutting down may refuse them). */
  failedStarts: number;
}

export function createDockerSupervisor(options: DockerSupervisorOptions): DockerSupervisor {
  const { engine, store, clock, log, emit } = options;
  const lifetime = new AbortController();
  const records = new Map<string, Supervised>();
  const queues = new Map<string, Promise<void>>();
  const holds = new Map<string, number>();
  /** Time (engine ms) of the engine's last `oom` event per instance. */
  const ooms = new Map<string, number>();
  /** Time (engine ms) of the last `kill` berth did not send, per instance. */
  const kills = new Map<string, number>();
  /** restart(id) in progress: the StartedAt of the run it ends. */
  const asked = new Map<string, string>();
  /** Instances adopt() took over: the StartedAt of the run no daemon watched (its exit, if any, is judged by its shape). */
  const unwatched = new Map<string, string>();
  /** The last time the event stream was lost, and when berth had looked at everything again. */
  let outage: { lostAt: number; resyncedAt?: number } | undefined;

  const containerOf = (id: string) => engine.inspectContainer(containerName(id));
  const current = (rec: Supervised) => !lifetime.signal.aborted && !holds.has(rec.state.id) && records.get(rec.state.id) === rec;
  /** No answer from the engine at all (status 0: socket unreachable, timeout, connection dropped). */
  const unreachable = (error: unknown) => (error as { status?: unknown } | null)?.status === 0;

  const serial = <T>(id: string, op: () => Promise<T>): Promise<T> => {
    const result = (queues.get(id) ?? Promise.resolve()).then(op);
    const tail = result.then(
      () => {},
      () => {},
    );
    queues.set(id, tail);
    void tail.then(() => {
      if (queues.get(id) === tail) queues.delete(id);
    });
    return result;
  };

  const save = (rec: Supervised) => {
    try {
      store.write(rec.state);
    } catch (error) {
      log.warn('could not save the supervision record', { instance: rec.state.id, error: error as Error });
    }
  };

  const cancelTimer = (rec: Supervised) => {
    rec.timer?.abort();
    rec.timer = null;
  };

  /** Runs op in the instance's queue after ms, unless cancelled, stopped or closed meanwhile. */
  const after = (rec: Supervised, ms: number, op: (rec: Supervised) => Promise<void>) => {
    cancelTimer(rec);
    const timer = new AbortController();
    rec.timer = timer;
    clock.sleep(Math.max(0, ms), AbortSignal.any([timer.signal, lifetime.signal])).then(
      () => {
        if (rec.timer === timer) rec.timer = null;
        if (!current(rec)) return;
        serial(rec.state.id, () => op(rec)).catch((error) => log.warn('supervising an instance failed', { instance: rec.state.id, error: error as Error }));
      },
      () => {},
    );
  };

  const handled = (rec: Supervised, what: string) => (error: unknown) => {
    if (!current(rec)) return;
    if (unreachable(error)) {
      log.debug('the engine did not answer; looking again shortly', { instance: rec.state.id, what, error: error as Error });
      after(rec, RETRY_MS, reconcile);
      return;
    }
    log.warn('supervising an instance failed', { instance: rec.state.id, what, error: error as Error });
  };

  /** Compares what the container does now with what berth expects, and acts on the difference. */
  const reconcile = async (rec: Supervised): Promise<void> => {
    if (!current(rec)) return;
    const container = await containerOf(rec.state.id);
    if (!current(rec)) return;
    if (!container) return gone(rec);
    // An older container whose engine policy restarts it: its `start` event follows.
    if (container.State.Restarting) return;
    if (container.State.Running) return onRunning(rec, container);
    if (rec.state.state === 'running') return onExit(rec, container);
    if (rec.state.state === 'restarting' && !rec.timer) after(rec, (rec.state.restartAt ?? 0) - clock.now(), relaunch);
  };

  const onRunning = (rec: Supervised, container: ContainerInspect) => {
    const id = rec.state.id;
    unwatched.delete(id);
    const address = addressOf(container);
    const previous = rec.state;
    if (previous.state !== 'running') {
      // Started by someone else than berth's back-off: an operator, or the engine's policy on an older container.
      cancelTimer(rec);
      const restarts = previous.state === 'restarting' && previous.reason === 'crash' ? previous.restarts + 1 : previous.restarts;
      rec.state = running(previous, restarts, container);
      rec.address = address;
      save(rec);
      log.info('instance started by someone other than berth', { instance: id, was: previous.state });
      emit([{ type: 'restarted', id, address, restarts }]);
      return;
    }
    if (previous.startedAt !== container.State.StartedAt) {
      rec.state = { ...previous, startedAt: container.State.StartedAt };
      save(rec);
    }
    // Same run or not, traffic must follow the container to wherever it is now (an engine restart moves it).
    if (!sameAddress(address, rec.address)) {
      rec.address = address;
      log.info('instance address changed', { instance: id, address });
      emit([{ type: 'restarted', id, address, restarts: rec.state.restarts }]);
    }
  };

  const oomNoticed = (id: string, startedMs: number) => {
    const at = ooms.get(id);
    return at !== undefined && at >= startedMs;
  };

  /** The container stopped and berth has not handled it yet. */
  const onExit = async (rec: Supervised, container: ContainerInspect) => {
    const id = rec.state.id;
    const at = engineMs(container.State.FinishedAt) ?? clock.now();
    const startedMs = engineMs(container.State.StartedAt) ?? 0;
    let oom = container.State.OOMKilled || oomNoticed(id, startedMs);
    if (!oom && container.State.ExitCode === 137 && (container.HostConfig?.Memory ?? 0) > 0) {
      // The engine's OOM notice can trail the exit (it races the kernel's): a moment for a late `oom` event.
      // Without one it was not out of memory, whatever the limit: a SIGKILL from anywhere also exits 137.
      await clock.sleep(OOM_GRACE_MS, lifetime.signal).catch(() => {});
      if (!current(rec)) return;
      oom = oomNoticed(id, startedMs);
    }
    ooms.delete(id);
    const exit: ExitInfo = { code: container.State.ExitCode, signal: null, at, ...(oom ? { oom: true } : {}) };
    const requested = asked.get(id) === container.State.StartedAt;
    asked.delete(id);
    const killedAt = kills.get(id);
    kills.delete(id);
    const stopTimeoutMs = (container.Config.StopTimeout ?? 10) * 1000;
    const stoppedFromOutside = !requested && killedAt !== undefined && killedAt >= startedMs && killedAt >= at - stopTimeoutMs - KILL_SLACK_MS;
    const duringOutage = !requested && outage !== undefined && at >= outage.lostAt - OUTAGE_SLACK_MS && (outage.resyncedAt === undefined || at <= outage.resyncedAt);
    // An exit while no daemon watched (see the header): the engine's stop, or a crash noticed late.
    const unwatchedRun = unwatched.get(id) === container.State.StartedAt;
    unwatched.delete(id);
    const stoppedUnwatched = !requested && unwatchedRun && looksLikeEngineStop(container, oom);
    if (stoppedFromOutside || duringOutage || stoppedUnwatched) {
      // Not the app's doing: back at once, nothing counted against its restart policy.
      rec.state = { ...rec.state, state: 'restarting', reason: 'outside', restartAt: clock.now(), lastExit: exit };
      save(rec);
      const cause = stoppedFromOutside ? 'kill' : duringOutage ? 'engine outage' : 'stopped while no daemon watched';
      log.info('instance stopped by the engine or from outside berth; starting it again', { instance: id, code: exit.code, cause });
      emit([{ type: 'exited', id, exit, willRestart: true, restarts: rec.state.restarts }]);
      after(rec, 0, relaunch);
      return;
    }
    crashed(rec, exit);
  };

  const crashed = (rec: Supervised, exit: ExitInfo) => {
    const id = rec.state.id;
    const plan = planAfterExit({ id, policy: rec.policy, crashes: rec.state.crashes, restarts: rec.state.restarts, exit });
    if (plan.decision.action === 'restart') {
      const restartAt = exit.at + plan.decision.delayMs;
      rec.state = { ...rec.state, state: 'restarting', reason: 'crash', restartAt, crashes: plan.crashes, lastExit: exit };
      save(rec);
      log.info('instance exited, restarting', { instance: id, code: exit.code, oom: exit.oom === true, delayMs: plan.decision.delayMs });
      emit(plan.events);
      after(rec, restartAt - clock.now(), relaunch);
    } else {
      // The container is stopped already (the engine restarts nothing of berth's): it stays so.
      const { restartAt: _at, reason: _reason, ...rest } = rec.state;
      rec.state = { ...rest, state: 'crashloop', crashes: plan.crashes, lastExit: exit };
      save(rec);
      log.warn('instance is crash-looping', { instance: id, code: exit.code, restarts: rec.state.restarts });
      emit(plan.events);
    }
  };

  /** The back-off is over: start the same container again. */
  const relaunch = async (rec: Supervised): Promise<void> => {
    if (!current(rec) || rec.state.state !== 'restarting') return;
    const id = rec.state.id;
    let container: ContainerInspect | undefined;
    try {
      container = await containerOf(id);
      if (container && !container.State.Running) await engine.startContainer(container.Id);
    } catch (error) {
      if (!current(rec)) return;
      if (unreachable(error) || (rec.state.reason === 'outside' && ++rec.failedStarts < OUTSIDE_START_TRIES)) {
        log.warn('the engine did not start the instance again; trying again', { instance: id, error: error as Error });
        after(rec, RETRY_MS, reconcile);
        return;
      }
      // As on the process driver: a start that fails is a crash too (back-off, then crash loop).
      rec.failedStarts = 0;
      log.warn('restart failed', { instance: id, error: error as Error });
      crashed(rec, { code: 127, signal: null, at: clock.now() });
      return;
    }
    rec.failedStarts = 0;
    if (!container) return gone(rec);
    // It runs now: record it even if the driver closed meanwhile, or a later adopt() would take it for news.
    if (holds.has(id) || records.get(id) !== rec) return;
    const now = (await containerOf(id).catch(() => undefined)) ?? container;
    const restarts = rec.state.reason === 'crash' ? rec.state.restarts + 1 : rec.state.restarts;
    rec.state = running(rec.state, restarts, now);
    rec.address = addressOf(now);
    save(rec);
    if (!lifetime.signal.aborted) emit([{ type: 'restarted', id, address: rec.address, restarts }]);
  };

  /** The container was removed behind berth's back: nothing left to restart. */
  const gone = (rec: Supervised) => {
    const id = rec.state.id;
    const { restarts } = rec.state;
    log.warn('the container of an instance is gone; berth cannot restart it', { instance: id });
    forget(id);
    const exit: ExitInfo = { code: null, signal: null, at: clock.now() };
    emit([
      { type: 'exited', id, exit, willRestart: false, restarts },
      { type: 'crashloop', id, restarts, exit },
    ]);
  };

  const forget = (id: string) => {
    const rec = records.get(id);
    if (rec) cancelTimer(rec);
    records.delete(id);
    ooms.delete(id);
    kills.delete(id);
    asked.delete(id);
    unwatched.delete(id);
    store.remove(id);
  };

  const supervise = (state: SupervisionState, container: ContainerInspect): Supervised => {
    const rec: Supervised = { state, policy: policyOf(container), address: addressOf(container), timer: null, failedStarts: 0 };
    records.set(state.id, rec);
    return rec;
  };

  /** A record for a container no record was kept for (made by an older berth, or its file was lost). */
  const seed = (id: string, container: ContainerInspect): SupervisionState => {
    const base = { version: 1 as const, id, restarts: container.RestartCount, crashes: [] };
    if (legacyGaveUp(container)) {
      const lastExit = exitOf(container);
      return { ...base, state: 'crashloop', ...(lastExit ? { lastExit } : {}) };
    }
    // Not running: reconcile() handles it as an exit noticed late.
    return { ...base, state: 'running', startedAt: container.State.StartedAt };
  };

  return {
    serial,

    started(container) {
      const id = container.Config.Labels[LABEL.instance];
      forget(id);
      const rec = supervise({ version: 1, id, state: 'running', restarts: 0, crashes: [], startedAt: container.State.StartedAt }, container);
      save(rec);
      // Dead already (its `die` may have come before this record existed): handled once start() is done.
      if (!container.State.Running) serial(id, () => reconcile(rec)).catch(handled(rec, 'start'));
      return rec.state;
    },

    hold(id) {
      holds.set(id, (holds.get(id) ?? 0) + 1);
      const rec = records.get(id);
      if (rec) cancelTimer(rec);
    },

    release(id) {
      const left = (holds.get(id) ?? 1) - 1;
      if (left > 0) {
        holds.set(id, left);
        return;
      }
      holds.delete(id);
      // A stop that failed: the instance is still berth's to supervise.
      const rec = records.get(id);
      if (rec && current(rec)) serial(id, () => reconcile(rec)).catch(handled(rec, 'release'));
    },

    forget,

    async restart(id) {
      const rec = records.get(id);
      if (!rec || !current(rec) || rec.state.state !== 'running') return;
      await serial(id, async () => {
        if (!current(rec) || rec.state.state !== 'running') return;
        const container = await containerOf(id);
        if (!container?.State.Running || container.State.Restarting) return;
        // Not a stop berth keeps: the exit that follows is handled as a crash (its `kill` is not "from outside").
        asked.set(id, container.State.StartedAt);
        try {
          await engine.stopContainer(container.Id, container.Config.StopTimeout ?? 10);
        } catch (error) {
          asked.delete(id);
          throw error;
        }
      });
    },

    record: (id) => records.get(id)?.state ?? store.read(id),

    async adopt(containers) {
      const adopted: Supervised[] = [];
      for (const container of containers) {
        const id = container.Config.Labels[LABEL.instance];
        if (!id || records.has(id) || holds.has(id)) continue;
        const saved = store.read(id);
        const rec = supervise(saved ?? seed(id, container), container);
        if (!saved) save(rec);
        if (rec.state.state === 'running') unwatched.set(id, container.State.StartedAt);
        adopted.push(rec);
      }
      await Promise.all(adopted.map((rec) => serial(rec.state.id, () => reconcile(rec)).catch(handled(rec, 'adopt'))));
      // Records of containers that are gone (removed while no daemon watched, or a stop cut short).
      const present = new Set(containers.map((c) => c.Config.Labels[LABEL.instance]));
      for (const id of store.ids()) if (!present.has(id) && !records.has(id) && !holds.has(id)) store.remove(id);
    },

    onEvent(event) {
      const id = event.Actor.Attributes[LABEL.instance];
      if (!id) return;
      const at = event.timeNano / 1e6;
      switch (event.Action) {
        case 'oom':
          ooms.set(id, at);
          return;
        case 'kill':
          if (!asked.has(id) && !holds.has(id)) kills.set(id, at);
          return;
        case 'die':
        case 'start': {
          // The record is looked up in the instance's queue, not now: a container that dies at once sends its
          // `die` while start() (queued before) has not recorded it yet.
          serial(id, async () => {
            const rec = records.get(id);
            if (rec && current(rec)) await reconcile(rec).catch(handled(rec, event.Action));
          }).catch((error) => log.warn('supervising an instance failed', { instance: id, what: event.Action, error: error as Error }));
          return;
        }
      }
    },

    streamLost() {
      if (!outage || outage.resyncedAt !== undefined) outage = { lostAt: clock.now() };
    },

    async resync() {
      const all = [...records.values()];
      await Promise.all(all.map((rec) => (current(rec) ? serial(rec.state.id, () => reconcile(rec)).catch(handled(rec, 'resync')) : undefined)));
      if (outage && outage.resyncedAt === undefined) outage.resyncedAt = clock.now();
      log.info('looked at every instance again after the engine event stream came back', { instances: all.length });
    },

    async close() {
      lifetime.abort();
      await Promise.allSettled([...queues.values()]);
    },
  };
}

/**
 * Whether an exit no daemon watched has the shape of the engine's stop (see the header): 0, 128 + the
 * container's stop signal, or 137 (SIGKILL after the stop timeout) when the engine does not say out of memory.
 */
function looksLikeEngineStop(container: ContainerInspect, oom: boolean): boolean {
  if (oom) return false;
  const code = container.State.ExitCode;
  return code === 0 || code === 137 || code === 128 + signalNumber((container.Config as { StopSignal?: string }).StopSignal);
}

/** An engine stop signal ("SIGTERM", "TERM", "15") as a number; SIGTERM when unset or unknown. */
function signalNumber(name: string | undefined): number {
  const value = name?.trim().toUpperCase() ?? '';
  if (/^\d+$/.test(value)) return Number(value);
  const signals = constants.signals as Record<string, number | undefined>;
  return signals[value.startsWith('SIG') ? value : `SIG${value}`] ?? constants.signals.SIGTERM;
}

function running(previous: SupervisionState, restarts: number, container: ContainerInspect): SupervisionState {
  const { restartAt: _at, reason: _reason, ...rest } = previous;
  return { ...rest, state: 'running', restarts, startedAt: container.State.StartedAt };
}
