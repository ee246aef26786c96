/**
 * What the control plane tells the data plane: which hostnames belong to which app, and which
 * instances (targets) serve each app with what weight. The table is always sent whole, with a
 * generation number, so applying it is idempotent and a restarted proxy needs nothing else.
 */
export type TargetState = 'active' | 'draining';

export interface Target {
  /** Instance id. */
  id: string;
  release: string;
  /** `host:port` the proxy connects to. */
  address: string;
  /** Relative share of new requests among active targets (0 = none). */
  weight: number;
  state: TargetState;
}

export interface AppRoute {
  /** Lowercase hostnames without port. */
  hosts: string[];
  targets: Target[];
  /** How long a draining target may keep requests and WebSockets before the proxy closes them. */
  drainTimeoutMs: number;
}

export interface RouteTable {
  generation: number;
  apps: Record<string, AppRoute>;
}

export const emptyRouteTable = (): RouteTable => ({ generation: 0, apps: {} });

/** Live numbers per target, as the proxy measured them. */
export interface TargetStats {
  app: string;
  release: string;
  state: TargetState | 'removed';
  inflight: number;
  websockets: number;
  requests: number;
  /** Responses by status class: 2xx, 3xx, 4xx, 5xx, and `error` for requests that got a proxy error page. */
  status: Record<'2xx' | '3xx' | '4xx' | '5xx' | 'error', number>;
  /** Latency histogram: counts per upper bound in milliseconds (last bucket is +Inf). */
  latency: { bounds: number[]; counts: number[]; sumMs: number };
}

/** Who the proxy is and which table it serves: cheap, for finding and adopting a running one. */
export interface ProxyInfo {
  generation: number;
  address: { host: string; port: number };
  pid: number;
  version: string;
  startedAt: number;
}

export interface ProxyStats extends ProxyInfo {
  connections: number;
  targets: Record<string, TargetStats>;
  /** Requests the proxy answered itself: a malformed request, an unknown host, or an app with no healthy target. */
  unrouted: number;
}

/** The data plane has a newer table than the one offered: two daemons raced, or the clock went back. */
export class StaleRouteTableError extends Error {
  readonly offered: number;
  /** The generation the data plane has; a table must be newer than this to be taken. */
  readonly current: number;
  constructor(offered: number, current: number) {
    super(`route table generation ${offered} is older than the proxy's ${current}`);
    this.offered = offered;
    this.current = current;
  }
}

/** The data-plane port. The built-in proxy implements it; an HAProxy-driven one can too. */
export interface DataPlane {
  /** Starts (or re-attaches to) the data plane; resolves with the public listening address. */
  start(): Promise<{ host: string; port: number }>;
  /** Takes the whole table; one older than the table it has is refused with StaleRouteTableError. */
  apply(table: RouteTable): Promise<void>;
  stats(): Promise<ProxyStats>;
  /** Detach from the data plane, leaving it serving (control-plane restart). */
  detach(): Promise<void>;
  /** Stop the data plane itself (full shutdown). */
  stop(): Promise<void>;
}
