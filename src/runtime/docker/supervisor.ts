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
 * judged by its shape, since the engine's `kill` events of that time are gone: see ./exit-evidence.ts.
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
 * (serial(), ./serial-queues.ts), so they never interleave, and its record is saved (./supervision-state.ts)
 * at each change. The verdict on an exit is ./exit-evidence.ts's, each change of the record is a pure step
 * of ./supervision-record.ts, and what adopt() takes over is planned by ./adoption.ts; this class does the
 * engine calls, timers and events around them.
 */
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { Address, DriverEvent, ExitInfo, RestartPolicy } from '../driver.ts';
import { planAdoption, staleRecords } from './adoption.ts';
import type { ContainerInspect, DockerEngine, EngineEvent } from './engine.ts';
import { ExitEvidence, exitFacts, mayTurnOutOom } from './exit-evidence.ts';
import { addressOf, policyOf, sameAddress } from './inspect-info.ts';
import { containerName, LABEL } from './names.ts';
import { SerialQueues } from './serial-queues.ts';
import { afterCrash, backRunning, freshRecord, stoppedFromOutside } from './supervision-record.ts';
import type { SupervisionState, SupervisionStore } from './supervision-state.ts';

/** How long an exit with code 137 of a memory-limited container waits for the engine's late `oom` event. */
const OOM_GRACE_MS = 500;
/** When the engine does not answer, the instance is looked at again this much later. */
const RETRY_MS = 2_000;
/** Starts that fail after an exit that was not a crash are retried this often before they count as one. */
const OUTSIDE_START_TRIES = 3;

export interface DockerSupervisorOptions {
  engine: DockerEngine;
  store: SupervisionStore;
  clock: Clock;
  log: Logger;
  emit: (events: DriverEvent[]) => void;
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

type Step = (rec: Supervised) => Promise<void>;

/** No answer from the engine at all (status 0: socket unreachable, timeout, connection dropped). */
const unreachable = (error: unknown) => (error as { status?: unknown } | null)?.status === 0;

export class DockerSupervisor {
  readonly #engine: DockerEngine;
  readonly #store: SupervisionStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #emit: (events: DriverEvent[]) => void;
  readonly #lifetime = new AbortController();
  readonly #records = new Map<string, Supervised>();
  readonly #queues = new SerialQueues();
  /** stop()/removeApp() in progress, counted: the instance's events and timers are ignored meanwhile. */
  readonly #holds = new Map<string, number>();
  readonly #evidence = new ExitEvidence();
  readonly #reconcileStep: Step = (rec) => this.#reconcile(rec);
  readonly #relaunchStep: Step = (rec) => this.#relaunch(rec);

  constructor(options: DockerSupervisorOptions) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#emit = options.emit;
  }

  /** Runs `op` after everything already queued for the instance. */
  serial<T>(id: string, op: () => Promise<T>): Promise<T> {
    return this.#queues.run(id, op);
  }

  /** A container start() just started (call inside serial()): supervise it with a fresh record. */
  started(container: ContainerInspect): SupervisionState {
    const id = container.Config.Labels[LABEL.instance];
    this.forget(id);
    const rec = this.#supervise(freshRecord(id, container.State.StartedAt), container);
    this.#save(rec);
    // Dead already (its `die` may have come before this record existed): handled once start() is done.
    if (!container.State.Running) void this.#reconcileQueued(rec, 'start');
    return rec.state;
  }

  /** stop()/removeApp() begin: the instance's events and timers are ignored until release(). */
  hold(id: string): void {
    this.#holds.set(id, (this.#holds.get(id) ?? 0) + 1);
    const rec = this.#records.get(id);
    if (rec) this.#cancelTimer(rec);
  }

  release(id: string): void {
    const left = (this.#holds.get(id) ?? 1) - 1;
    if (left > 0) {
      this.#holds.set(id, left);
      return;
    }
    this.#holds.delete(id);
    // A stop that failed: the instance is still berth's to supervise.
    const rec = this.#records.get(id);
    if (rec && this.#current(rec)) void this.#reconcileQueued(rec, 'release');
  }

  /** Forgets the instance and deletes its record (stopped, or about to be started afresh). */
  forget(id: string): void {
    const rec = this.#records.get(id);
    if (rec) this.#cancelTimer(rec);
    this.#records.delete(id);
    this.#evidence.forget(id);
    this.#store.remove(id);
  }

  /** Ends the container's process (stop timeout, then SIGKILL); the exit is handled as a crash. */
  async restart(id: string): Promise<void> {
    const rec = this.#records.get(id);
    if (!rec || !this.#current(rec) || rec.state.state !== 'running') return;
    await this.serial(id, async () => {
      if (!this.#current(rec) || rec.state.state !== 'running') return;
      const container = await this.#containerOf(id);
      if (!container?.State.Running || container.State.Restarting) return;
      // Not a stop berth keeps: the exit that follows is handled as a crash (its `kill` is not "from outside").
      this.#evidence.stopAsked(id, container.State.StartedAt);
      try {
        await this.#engine.stopContainer(container.Id, container.Config.StopTimeout ?? 10);
      } catch (error) {
        this.#evidence.stopNotSent(id);
        throw error;
      }
    });
  }

  /** The record of an instance, supervised here or left on disk by an earlier daemon. */
  record(id: string): SupervisionState | undefined {
    return this.#records.get(id)?.state ?? this.#store.read(id);
  }

  /** Resumes supervising the containers found (and handles what happened while no daemon watched). */
  async adopt(containers: ContainerInspect[]): Promise<void> {
    const taken = (id: string) => this.#records.has(id) || this.#holds.has(id);
    const adopted = planAdoption(containers, { taken, saved: (id) => this.#store.read(id) }).map((adoption) => {
      const rec = this.#supervise(adoption.record, adoption.container);
      if (adoption.seeded) this.#save(rec);
      if (adoption.unwatchedRun !== undefined) this.#evidence.unwatchedRun(adoption.id, adoption.unwatchedRun);
      return rec;
    });
    await Promise.all(adopted.map((rec) => this.#reconcileQueued(rec, 'adopt')));
    // Records of containers that are gone (removed while no daemon watched, or a stop cut short).
    for (const id of staleRecords(this.#store.ids(), containers, taken)) this.#store.remove(id);
  }

  /** An engine event of one of berth's instances, in stream order. */
  onEvent(event: EngineEvent): void {
    const id = event.Actor.Attributes[LABEL.instance];
    if (!id) return;
    const at = event.timeNano / 1e6;
    switch (event.Action) {
      case 'oom':
        this.#evidence.oom(id, at);
        return;
      case 'kill':
        if (!this.#holds.has(id)) this.#evidence.kill(id, at);
        return;
      case 'die':
      case 'start': {
        // The record is looked up in the instance's queue, not now: a container that dies at once sends its
        // `die` while start() (queued before) has not recorded it yet.
        this.serial(id, async () => {
          const rec = this.#records.get(id);
          if (rec && this.#current(rec)) await this.#reconcile(rec).catch(this.#handled(rec, event.Action));
        }).catch((error) => this.#log.warn('supervising an instance failed', { instance: id, what: event.Action, error: error as Error }));
        return;
      }
    }
  }

  /** The event stream ended or failed: what happens from now until resync() is the engine's doing. */
  streamLost(): void {
    this.#evidence.streamLost(this.#clock.now());
  }

  /** The stream is back: looks at every supervised instance again. */
  async resync(): Promise<void> {
    const all = [...this.#records.values()];
    await Promise.all(all.map((rec) => (this.#current(rec) ? this.#reconcileQueued(rec, 'resync') : undefined)));
    this.#evidence.resynced(this.#clock.now());
    this.#log.info('looked at every instance again after the engine event stream came back', { instances: all.length });
  }

  async close(): Promise<void> {
    this.#lifetime.abort();
    await this.#queues.settled();
  }

  #containerOf(id: string): Promise<ContainerInspect | undefined> {
    return this.#engine.inspectContainer(containerName(id));
  }

  #current(rec: Supervised): boolean {
    return !this.#lifetime.signal.aborted && !this.#holds.has(rec.state.id) && this.#records.get(rec.state.id) === rec;
  }

  #supervise(state: SupervisionState, container: ContainerInspect): Supervised {
    const rec: Supervised = { state, policy: policyOf(container), address: addressOf(container), timer: null, failedStarts: 0 };
    this.#records.set(state.id, rec);
    return rec;
  }

  #save(rec: Supervised): void {
    try {
      this.#store.write(rec.state);
    } catch (error) {
      this.#log.warn('could not save the supervision record', { instance: rec.state.id, error: error as Error });
    }
  }

  #cancelTimer(rec: Supervised): void {
    rec.timer?.abort();
    rec.timer = null;
  }

  /** reconcile() in the instance's queue; a failure is handled (a retry when the engine did not answer). */
  #reconcileQueued(rec: Supervised, what: string): Promise<void> {
    return this.serial(rec.state.id, () => this.#reconcile(rec)).catch(this.#handled(rec, what));
  }

  /** Runs step in the instance's queue after ms, unless cancelled, stopped or closed meanwhile. */
  #after(rec: Supervised, ms: number, step: Step): void {
    this.#cancelTimer(rec);
    const timer = new AbortController();
    rec.timer = timer;
    this.#clock.sleep(Math.max(0, ms), AbortSignal.any([timer.signal, this.#lifetime.signal])).then(
      () => {
        if (rec.timer === timer) rec.timer = null;
        if (!this.#current(rec)) return;
        this.serial(rec.state.id, () => step(rec)).catch((error) => this.#log.warn('supervising an instance failed', { instance: rec.state.id, error: error as Error }));
      },
      () => {},
    );
  }

  #handled(rec: Supervised, what: string): (error: unknown) => void {
    return (error) => {
      if (!this.#current(rec)) return;
      if (unreachable(error)) {
        this.#log.debug('the engine did not answer; looking again shortly', { instance: rec.state.id, what, error: error as Error });
        this.#after(rec, RETRY_MS, this.#reconcileStep);
        return;
      }
      this.#log.warn('supervising an instance failed', { instance: rec.state.id, what, error: error as Error });
    };
  }

  /** Compares what the container does now with what berth expects, and acts on the difference. */
  async #reconcile(rec: Supervised): Promise<void> {
    if (!this.#current(rec)) return;
    const container = await this.#containerOf(rec.state.id);
    if (!this.#current(rec)) return;
    if (!container) return this.#gone(rec);
    // An older container whose engine policy restarts it: its `start` event follows.
    if (container.State.Restarting) return;
    if (container.State.Running) return this.#onRunning(rec, container);
    if (rec.state.state === 'running') return this.#onExit(rec, container);
    if (rec.state.state === 'restarting' && !rec.timer) this.#after(rec, (rec.state.restartAt ?? 0) - this.#clock.now(), this.#relaunchStep);
  }

  #onRunning(rec: Supervised, container: ContainerInspect): void {
    const id = rec.state.id;
    this.#evidence.watched(id);
    const address = addressOf(container);
    const previous = rec.state;
    if (previous.state !== 'running') {
      // Started by someone else than berth's back-off: an operator, or the engine's policy on an older container.
      this.#cancelTimer(rec);
      rec.state = backRunning(previous, container.State.StartedAt);
      rec.address = address;
      this.#save(rec);
      this.#log.info('instance started by someone other than berth', { instance: id, was: previous.state });
      this.#emit([{ type: 'restarted', id, address, restarts: rec.state.restarts }]);
      return;
    }
    if (previous.startedAt !== container.State.StartedAt) {
      rec.state = { ...previous, startedAt: container.State.StartedAt };
      this.#save(rec);
    }
    // Same run or not, traffic must follow the container to wherever it is now (an engine restart moves it).
    if (!sameAddress(address, rec.address)) {
      rec.address = address;
      this.#log.info('instance address changed', { instance: id, address });
      this.#emit([{ type: 'restarted', id, address, restarts: rec.state.restarts }]);
    }
  }

  /** The container stopped and berth has not handled it yet. */
  async #onExit(rec: Supervised, container: ContainerInspect): Promise<void> {
    const id = rec.state.id;
    const facts = exitFacts(container, this.#clock.now());
    let oom = container.State.OOMKilled || this.#evidence.oomSince(id, facts.startedMs);
    if (!oom && mayTurnOutOom(container)) {
      // A moment for a late `oom` event. Without one it was not out of memory, whatever the limit: a SIGKILL
      // from anywhere also exits 137.
      await this.#clock.sleep(OOM_GRACE_MS, this.#lifetime.signal).catch(() => {});
      if (!this.#current(rec)) return;
      oom = this.#evidence.oomSince(id, facts.startedMs);
    }
    const exit: ExitInfo = { code: container.State.ExitCode, signal: null, at: facts.at, ...(oom ? { oom: true } : {}) };
    const verdict = this.#evidence.judge(id, facts, oom);
    if (verdict.outside) {
      // Not the app's doing: back at once, nothing counted against its restart policy.
      rec.state = stoppedFromOutside(rec.state, exit, this.#clock.now());
      this.#save(rec);
      this.#log.info('instance stopped by the engine or from outside berth; starting it again', { instance: id, code: exit.code, cause: verdict.cause });
      this.#emit([{ type: 'exited', id, exit, willRestart: true, restarts: rec.state.restarts }]);
      this.#after(rec, 0, this.#relaunchStep);
      return;
    }
    this.#crashed(rec, exit);
  }

  #crashed(rec: Supervised, exit: ExitInfo): void {
    const id = rec.state.id;
    const { state, plan } = afterCrash(rec.state, rec.policy, exit);
    rec.state = state;
    this.#save(rec);
    if (plan.decision.action === 'restart') {
      this.#log.info('instance exited, restarting', { instance: id, code: exit.code, oom: exit.oom === true, delayMs: plan.decision.delayMs });
      this.#emit(plan.events);
      this.#after(rec, exit.at + plan.decision.delayMs - this.#clock.now(), this.#relaunchStep);
    } else {
      this.#log.warn('instance is crash-looping', { instance: id, code: exit.code, restarts: rec.state.restarts });
      this.#emit(plan.events);
    }
  }

  /** The back-off is over: start the same container again. */
  async #relaunch(rec: Supervised): Promise<void> {
    if (!this.#current(rec) || rec.state.state !== 'restarting') return;
    const id = rec.state.id;
    let container: ContainerInspect | undefined;
    try {
      container = await this.#containerOf(id);
      if (container && !container.State.Running) await this.#engine.startContainer(container.Id);
    } catch (error) {
      if (!this.#current(rec)) return;
      if (unreachable(error) || (rec.state.reason === 'outside' && ++rec.failedStarts < OUTSIDE_START_TRIES)) {
        this.#log.warn('the engine did not start the instance again; trying again', { instance: id, error: error as Error });
        this.#after(rec, RETRY_MS, this.#reconcileStep);
        return;
      }
      // As on the process driver: a start that fails is a crash too (back-off, then crash loop).
      rec.failedStarts = 0;
      this.#log.warn('restart failed', { instance: id, error: error as Error });
      this.#crashed(rec, { code: 127, signal: null, at: this.#clock.now() });
      return;
    }
    rec.failedStarts = 0;
    if (!container) return this.#gone(rec);
    // It runs now: record it even if the driver closed meanwhile, or a later adopt() would take it for news.
    if (this.#holds.has(id) || this.#records.get(id) !== rec) return;
    const now = (await this.#containerOf(id).catch(() => undefined)) ?? container;
    rec.state = backRunning(rec.state, now.State.StartedAt);
    rec.address = addressOf(now);
    this.#save(rec);
    if (!this.#lifetime.signal.aborted) this.#emit([{ type: 'restarted', id, address: rec.address, restarts: rec.state.restarts }]);
  }

  /** The container was removed behind berth's back: nothing left to restart. */
  #gone(rec: Supervised): void {
    const id = rec.state.id;
    const { restarts } = rec.state;
    this.#log.warn('the container of an instance is gone; berth cannot restart it', { instance: id });
    this.forget(id);
    const exit: ExitInfo = { code: null, signal: null, at: this.#clock.now() };
    this.#emit([
      { type: 'exited', id, exit, willRestart: false, restarts },
      { type: 'crashloop', id, restarts, exit },
    ]);
  }
}
