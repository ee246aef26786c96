/**
 * Supervision of the fake driver's instances, by the same rules as the process driver: every exit berth
 * did not ask for goes through the shared restart policy (back-off, then crash loop), stop() sends SIGTERM
 * and SIGKILL after the stop timeout, and adopt() resumes what a closed driver left in the FakeState. All
 * timing is the given Clock's.
 */
import type { Clock } from '../../lib/clock.ts';
import type { DriverEvent, ExitInfo } from '../driver.ts';
import { berthVariables } from '../instance-env.ts';
import { createMasker } from '../mask-secrets.ts';
import { planAfterExit } from '../restart-policy.ts';
import { spawnFakeProcess, type FakeProcess } from './process.ts';
import { appendFakeLog, fakeInfo, type FakeInstance, type FakeState } from './state.ts';

export class FakeSupervisor {
  readonly #state: FakeState;
  readonly #clock: Clock;
  readonly #emit: (...events: DriverEvent[]) => void;
  readonly #lifetime = new AbortController();
  /** Instances this driver watches (the others in the FakeState wait for adopt()). */
  readonly #supervised = new Set<string>();

  constructor(options: { state: FakeState; clock: Clock; emit: (...events: DriverEvent[]) => void }) {
    this.#state = options.state;
    this.#clock = options.clock;
    this.#emit = options.emit;
  }

  /** Records a new instance and spawns its process; resolves once the process runs. */
  launch(r: FakeInstance): Promise<FakeProcess> {
    this.#state.instances.set(r.spec.id, r);
    this.#supervised.add(r.spec.id);
    return this.#spawn(r);
  }

  /** Resumes watching the instances of the FakeState no driver watches (after a driver restart). */
  async adopt(): Promise<void> {
    for (const record of this.#state.instances.values()) {
      if (this.#supervised.has(record.spec.id) || record.stopping) continue;
      this.#supervised.add(record.spec.id);
      const proc = record.process;
      if (record.state === 'running' && proc) {
        if (proc.alive()) this.#watch(record, proc);
        else this.#onExit(record, await proc.exited);
      } else if (record.state === 'restarting') {
        this.#scheduleRestart(record, Math.max(0, (record.restartAt ?? 0) - this.#clock.now()));
      }
    }
  }

  /** Ends the instance's process as a crash would: the restart policy brings it back. */
  async restart(id: string): Promise<void> {
    const r = this.#state.instances.get(id);
    // Not stopping: the exit handler then sees an exit nobody asked for, a crash by the policy.
    if (r && this.#current(r) && r.state === 'running') await this.#endProcess(r);
  }

  /** Ends the instance's process (the exit is not a crash) and forgets the instance. */
  async stop(r: FakeInstance): Promise<void> {
    r.stopping = true;
    await this.#endProcess(r);
    if (this.#state.instances.get(r.spec.id) === r) this.#state.instances.delete(r.spec.id);
    this.#supervised.delete(r.spec.id);
  }

  /** Stops supervising; processes keep running in the FakeState. */
  close(): void {
    this.#lifetime.abort();
  }

  #current(r: FakeInstance): boolean {
    return this.#state.instances.get(r.spec.id) === r && !r.stopping && !this.#lifetime.signal.aborted;
  }

  async #spawn(r: FakeInstance): Promise<FakeProcess> {
    const state = this.#state;
    const clock = this.#clock;
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
    this.#watch(r, proc);
    return proc;
  }

  #watch(r: FakeInstance, proc: FakeProcess): void {
    void proc.exited.then((exit) => {
      if (this.#current(r) && r.process === proc && r.state === 'running') this.#onExit(r, exit);
    });
  }

  #onExit(r: FakeInstance, exit: ExitInfo): void {
    const plan = planAfterExit({ id: r.spec.id, policy: r.spec.restart, crashes: r.crashes, restarts: r.restarts, exit });
    r.crashes = plan.crashes;
    r.lastExit = exit;
    if (plan.decision.action === 'restart') {
      r.state = 'restarting';
      r.restartAt = exit.at + plan.decision.delayMs;
      this.#emit(...plan.events);
      // An exit noticed late (it happened while no driver was running) waits only what is left.
      this.#scheduleRestart(r, Math.max(0, r.restartAt - this.#clock.now()));
    } else {
      r.state = 'crashloop';
      this.#emit(...plan.events);
    }
  }

  #scheduleRestart(r: FakeInstance, delayMs: number): void {
    this.#clock.sleep(delayMs, this.#lifetime.signal).then(
      () => void this.#relaunch(r),
      () => {},
    );
  }

  async #relaunch(r: FakeInstance): Promise<void> {
    if (!this.#current(r) || r.state !== 'restarting') return;
    const proc = await this.#spawn(r);
    if (!this.#current(r)) return proc.kill('SIGKILL');
    r.state = 'running';
    r.restarts += 1;
    delete r.restartAt;
    this.#emit({ type: 'restarted', id: r.spec.id, address: fakeInfo(r).address, restarts: r.restarts });
  }

  /** SIGTERM, SIGKILL after the stop timeout; resolves once the process is gone. */
  async #endProcess(r: FakeInstance): Promise<void> {
    const proc = r.process;
    if (!proc || !proc.alive()) return;
    proc.kill('SIGTERM');
    const timeout = new AbortController();
    const gone = await Promise.race([proc.exited.then(() => true), this.#clock.sleep(r.spec.stopTimeoutMs, timeout.signal).then(() => false)]);
    timeout.abort();
    if (!gone) proc.kill('SIGKILL');
    await proc.exited;
  }
}
