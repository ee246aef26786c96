/**
 * Why a container stopped, as far as the container itself cannot tell (pure: times are passed in). The
 * supervisor notes here what the engine's events said (`oom`, a `kill` berth did not send), the stops berth
 * asked for (restart()), the runs no daemon watched (adopt()) and when the event stream was lost; judge()
 * then gives the verdict on one exit: the app crashed (counted by the restart policy), or the engine or
 * someone outside berth stopped it (started again at once, nothing counted). Why berth supervises
 * containers itself, and how it reads the engine's events, is in the header of ./supervisor.ts.
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
 */
import { constants } from 'node:os';
import type { ContainerInspect } from './engine.ts';
import { engineMs } from './inspect-info.ts';

/** Exits this long before the event stream was lost are still put down to the engine going away. */
const OUTAGE_SLACK_MS = 5_000;
/** A `kill` counts for an exit up to the container's stop timeout plus this much before it. */
const KILL_SLACK_MS = 5_000;

/** One exit, as the stopped container tells it. */
export interface ExitFacts {
  /** State.StartedAt of the run that ended, as the engine spells it (runs are told apart by it). */
  startedAt: string;
  /** The same in epoch ms; 0 when the engine gives none. */
  startedMs: number;
  /** When it exited (epoch ms). */
  at: number;
  code: number;
  stopTimeoutMs: number;
  /** The container's stop signal, when its image sets one. */
  stopSignal?: string;
}

export type OutsideCause = 'kill' | 'engine outage' | 'stopped while no daemon watched';

export type ExitVerdict = { outside: false } | { outside: true; cause: OutsideCause };

/** The facts of a stopped container's last exit; `now` when the engine gives no finish time. */
export function exitFacts(container: ContainerInspect, now: number): ExitFacts {
  const stopSignal = (container.Config as { StopSignal?: string }).StopSignal;
  return {
    startedAt: container.State.StartedAt,
    startedMs: engineMs(container.State.StartedAt) ?? 0,
    at: engineMs(container.State.FinishedAt) ?? now,
    code: container.State.ExitCode,
    stopTimeoutMs: (container.Config.StopTimeout ?? 10) * 1000,
    ...(stopSignal !== undefined ? { stopSignal } : {}),
  };
}

/**
 * Whether an exit not known to be out of memory may still turn out so: the engine's OOM notice can trail
 * the exit (it races the kernel's), and an OOM kill exits 137, which only a memory-limited container gets.
 */
export function mayTurnOutOom(container: ContainerInspect): boolean {
  return container.State.ExitCode === 137 && (container.HostConfig?.Memory ?? 0) > 0;
}

export class ExitEvidence {
  /** Time (engine ms) of the engine's last `oom` event per instance. */
  readonly #ooms = new Map<string, number>();
  /** Time (engine ms) of the last `kill` berth did not send, per instance. */
  readonly #kills = new Map<string, number>();
  /** restart(id) in progress: the StartedAt of the run it ends. */
  readonly #asked = new Map<string, string>();
  /** Instances adopt() took over: the StartedAt of the run no daemon watched (its exit, if any, is judged by its shape). */
  readonly #unwatched = new Map<string, string>();
  /** The last time the event stream was lost, and when berth had looked at everything again. */
  #outage: { lostAt: number; resyncedAt?: number } | undefined;

  /** The engine's `oom` event. */
  oom(id: string, at: number): void {
    this.#ooms.set(id, at);
  }

  /** A `kill` event of an instance berth is not stopping itself (the caller leaves out those it holds). */
  kill(id: string, at: number): void {
    if (!this.#asked.has(id)) this.#kills.set(id, at);
  }

  /** restart() is about to stop the run that started at `startedAt`: its exit is a crash, whatever kill it gets. */
  stopAsked(id: string, startedAt: string): void {
    this.#asked.set(id, startedAt);
  }

  /** The stop restart() asked for was refused. */
  stopNotSent(id: string): void {
    this.#asked.delete(id);
  }

  /** adopt() took over the run that started at `startedAt`, which no daemon watched. */
  unwatchedRun(id: string, startedAt: string): void {
    this.#unwatched.set(id, startedAt);
  }

  /** The instance was seen running under berth's eyes: its run is a watched one now. */
  watched(id: string): void {
    this.#unwatched.delete(id);
  }

  /** The event stream ended; a loss before the last resync finished extends that outage. */
  streamLost(now: number): void {
    if (!this.#outage || this.#outage.resyncedAt !== undefined) this.#outage = { lostAt: now };
  }

  /** Every instance was looked at again after the stream came back: the outage ends here. */
  resynced(now: number): void {
    if (this.#outage && this.#outage.resyncedAt === undefined) this.#outage.resyncedAt = now;
  }

  /** Whether the engine said out of memory for the run that started at `startedMs`. */
  oomSince(id: string, startedMs: number): boolean {
    const at = this.#ooms.get(id);
    return at !== undefined && at >= startedMs;
  }

  /** The verdict on the instance's exit; what was noted for it is used up. */
  judge(id: string, exit: ExitFacts, oom: boolean): ExitVerdict {
    const requested = this.#asked.get(id) === exit.startedAt;
    const killedAt = this.#kills.get(id);
    const unwatchedRun = this.#unwatched.get(id) === exit.startedAt;
    this.forget(id);
    if (requested) return { outside: false };
    if (killedAt !== undefined && killedAt >= exit.startedMs && killedAt >= exit.at - exit.stopTimeoutMs - KILL_SLACK_MS) return { outside: true, cause: 'kill' };
    const outage = this.#outage;
    if (outage !== undefined && exit.at >= outage.lostAt - OUTAGE_SLACK_MS && (outage.resyncedAt === undefined || exit.at <= outage.resyncedAt)) {
      return { outside: true, cause: 'engine outage' };
    }
    // An exit while no daemon watched: the engine's stop, or a crash noticed late.
    if (unwatchedRun && looksLikeEngineStop(exit, oom)) return { outside: true, cause: 'stopped while no daemon watched' };
    return { outside: false };
  }

  forget(id: string): void {
    this.#ooms.delete(id);
    this.#kills.delete(id);
    this.#asked.delete(id);
    this.#unwatched.delete(id);
  }
}

/**
 * Whether an exit no daemon watched has the shape of the engine's stop: 0, 128 + the container's stop
 * signal, or 137 (SIGKILL after the stop timeout) when the engine does not say out of memory.
 */
export function looksLikeEngineStop(exit: Pick<ExitFacts, 'code' | 'stopSignal'>, oom: boolean): boolean {
  if (oom) return false;
  return exit.code === 0 || exit.code === 137 || exit.code === 128 + signalNumber(exit.stopSignal);
}

/** An engine stop signal ("SIGTERM", "TERM", "15") as a number; SIGTERM when unset or unknown. */
export function signalNumber(name: string | undefined): number {
  const value = name?.trim().toUpperCase() ?? '';
  if (/^\d+$/.test(value)) return Number(value);
  const signals = constants.signals as Record<string, number | undefined>;
  return signals[value.startsWith('SIG') ? value : `SIG${value}`] ?? constants.signals.SIGTERM;
}
