import type { Target, TargetState } from '../dataplane/route-table.ts';
import type { Weighted } from './balancer.ts';
import { parseHostPort } from '../lib/host-port.ts';
import { TargetCounters, type ReleaseCounters } from './stats.ts';
import { UpstreamPool, type PoolOptions } from './upstream.ts';

/** Something running against a target that must be cut when its drain time is up. */
export interface Drainable {
  /** Called at the drain deadline: finish politely if possible, then close. */
  drainExpired(): void;
}

export type RuntimeState = TargetState | 'removed';

/**
 * A target as the proxy lives it: the route table's view plus the pool, the live counters and what
 * is in flight. It outlives table updates (keyed by instance id) so counts and connections survive them.
 */
export class TargetRuntime implements Weighted {
  /** An instance restarted on another port is another target: the old address drains like a removed one. */
  static keyOf(target: Pick<Target, 'id' | 'address'>): string {
    return `${target.id}@${target.address}`;
  }

  readonly id: string;
  readonly key: string;
  app: string;
  release: string;
  weight: number;
  current = 0;
  state: RuntimeState;
  readonly pool: UpstreamPool;
  readonly counters: TargetCounters;
  inflight = 0;
  readonly exchanges = new Set<Drainable>();
  readonly websockets = new Set<Drainable>();
  /** Passive health: after a refused connection the target is skipped until then (while others exist). */
  downUntil = 0;
  drainTimer: NodeJS.Timeout | null = null;

  constructor(target: Target, app: string, pool: PoolOptions, release: ReleaseCounters) {
    this.id = target.id;
    this.counters = new TargetCounters(release);
    this.key = TargetRuntime.keyOf(target);
    this.app = app;
    this.release = target.release;
    this.weight = target.weight;
    this.state = target.state;
    const { host, port } = parseHostPort(target.address)!; // validated with the table
    this.pool = new UpstreamPool(host, port, pool);
  }

  /** An exchange starts using this target: counted in flight (here and in its release), and cut at the drain deadline. */
  enter(exchange: Drainable): void {
    this.inflight++;
    this.counters.release.inflight++;
    this.exchanges.add(exchange);
  }

  /** The exchange is done with this target. */
  leave(exchange: Drainable): void {
    this.inflight--;
    this.counters.release.inflight--;
    this.exchanges.delete(exchange);
  }

  /** A switched connection (WebSocket) starts on this target: counted open and opened in its release. */
  openTunnel(tunnel: Drainable): void {
    this.websockets.add(tunnel);
    this.counters.release.websockets++;
    this.counters.release.websocketsOpened++;
  }

  closeTunnel(tunnel: Drainable): void {
    if (this.websockets.delete(tunnel)) this.counters.release.websockets--;
  }

  /** The table now says another release for this instance: what is open moves with it. */
  moveTo(release: ReleaseCounters): void {
    const old = this.counters.release;
    if (old === release) return;
    old.inflight -= this.inflight;
    old.websockets -= this.websockets.size;
    release.inflight += this.inflight;
    release.websockets += this.websockets.size;
    this.counters.release = release;
  }

  get idle(): boolean {
    return this.inflight === 0 && this.websockets.size === 0;
  }

  /** Stop taking new requests; cut whatever is still running once `timeoutMs` is up. */
  beginDrain(state: 'draining' | 'removed', timeoutMs: number, onExpired: () => void): void {
    const wasDraining = this.state !== 'active';
    this.state = state;
    this.pool.accepting = false;
    this.pool.closeIdle();
    if (wasDraining) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      for (const exchange of [...this.exchanges]) exchange.drainExpired();
      for (const socket of [...this.websockets]) socket.drainExpired();
      onExpired();
    }, timeoutMs);
    this.drainTimer.unref();
  }

  /** Back to service (a rollback re-activated a draining release). */
  reactivate(weight: number): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.state = 'active';
    this.weight = weight;
    this.pool.accepting = true;
  }

  destroy(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    for (const exchange of [...this.exchanges]) exchange.drainExpired();
    for (const socket of [...this.websockets]) socket.drainExpired();
    this.pool.destroyAll();
  }
}
