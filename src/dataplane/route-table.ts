import type { AccessLogStats } from './access-log.ts';

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
  /**
   * HTTPS behaviour of the app's hosts. `redirect`: a plain-HTTP request for one of `hosts` that the
   * proxy holds a valid certificate for is answered 308 to its https:// URL (the ACME challenge path
   * excepted). `hsts`: the Strict-Transport-Security value added to responses sent over TLS (null: none).
   * Absent: redirect on, no HSTS.
   */
  https?: { redirect: boolean; hsts: string | null };
  /**
   * An outage simulated on the app's traffic (`berth chaos`); absent or null: none. Only app traffic is
   * touched, never berth's own answers (ACME challenges, redirects, error pages).
   */
  chaos?: ChaosRule | null;
  /**
   * A canary split (deploy strategy `canary`): the active targets of `release` get `percent` % of the
   * app's clients, the other active targets the rest. Each client falls in a bucket 0..99 (with `sticky`
   * `cookie`: the bucket in its split cookie, set by the proxy on the first answer, else its address;
   * with `address`: a hash of its address) and the canary side is buckets below `percent`, so a client
   * stays on one side while the percentage grows. When one side has no usable target, the other serves
   * everything: the stable release never stops serving. Absent or null: target weights alone decide.
   */
  split?: CanarySplit | null;
}

export interface CanarySplit {
  /** The canary release's name (`Target.release`, such as `v4`). */
  release: string;
  /** 0..100: the share of clients sent to the canary (0: none, all back on stable; 100: all). */
  percent: number;
  sticky: 'cookie' | 'address';
}

/**
 * `slow`: each request waits `latencyMs` before it is forwarded. `error`: a `ratio` of requests is
 * answered `status` by the proxy, never forwarded. `release`: only requests sent to that release's
 * targets (`Target.release`), null: all of the app's. `until` (ms since the epoch): from then on the
 * proxy ignores the rule by itself, so it ends even while the control plane is down.
 */
export type ChaosRule =
  | { mode: 'slow'; latencyMs: number; release: string | null; until: number }
  | { mode: 'error'; status: number; ratio: number; release: string | null; until: number };

export interface RouteTable {
  generation: number;
  apps: Record<string, AppRoute>;
}

export const emptyRouteTable = (): RouteTable => ({ generation: 0, apps: {} });

/** A certificate the data plane serves, by SNI, for the hostnames it covers. */
export interface TlsCertificate {
  /** The control plane's id for it (logs, stats). */
  id: string;
  /** Lowercase hostnames it is served for; `*.example.com` covers exactly one label. */
  hosts: string[];
  /** PEM: the leaf first, then its intermediates. */
  certPem: string;
  /** PEM private key of the leaf. */
  keyPem: string;
  /** Not after, ms since the epoch: an expired certificate is not served. */
  notAfter: number;
}

/** Every certificate the data plane serves, always sent whole, newer generations only (as route tables). */
export interface CertificateSet {
  generation: number;
  certificates: TlsCertificate[];
}

export const emptyCertificateSet = (): CertificateSet => ({ generation: 0, certificates: [] });

/**
 * ACME HTTP-01 answers, token -> key authorization: the HTTP listener answers
 * `GET /.well-known/acme-challenge/<token>` for any host with the key authorization (text/plain), and
 * 404 for an unknown token. Always sent whole; not persisted (a challenge lives for seconds).
 */
export type AcmeChallenges = Record<string, string>;

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
  /** The TLS listener's address, null when the proxy serves plain HTTP only. */
  httpsAddress: { host: string; port: number } | null;
  /** Generation of the certificate set in use. */
  certificatesGeneration: number;
  pid: number;
  version: string;
  startedAt: number;
}

/**
 * Numbers per app release, cumulative since the proxy started: they outlive the targets that counted
 * them (an instance drained and removed keeps its requests in its release's totals), so a scraper sees
 * counters that only go up until the proxy restarts. A release no target of the table names any more is
 * forgotten an hour after its last request.
 */
export interface ReleaseStats {
  app: string;
  /** The release id (the route table's `Target.release`). */
  release: string;
  requests: number;
  status: Record<'2xx' | '3xx' | '4xx' | '5xx' | 'error', number>;
  latency: { bounds: number[]; counts: number[]; sumMs: number };
  /** Connections to its instances that failed before a response began (refused, reset, timed out). */
  upstreamErrors: number;
  /** Requests sent again (to the same or another instance) after such a failure. */
  retries: number;
  /** Requests in flight now. */
  inflight: number;
  /** WebSockets open now. */
  websockets: number;
  /** WebSockets opened since the proxy started. */
  websocketsOpened: number;
}

export interface ProxyStats extends ProxyInfo {
  /** Client connections open now (HTTP/1 and TLS, HTTP/2 sessions counted once). */
  connections: number;
  targets: Record<string, TargetStats>;
  /** Per release, cumulative (see ReleaseStats). */
  releases: ReleaseStats[];
  /** Requests the proxy answered itself: a malformed request, an unknown host, or an app with no healthy target. */
  unrouted: number;
  /** The HTTPS side, and what the HTTP listener answered for it. */
  tls: TlsStats;
  /** The access log's settings and counters; null when the proxy writes none. */
  accessLog?: AccessLogStats | null;
}

/** Counters of the TLS listener and of the HTTP listener's answers for HTTPS, since the proxy started. */
export interface TlsStats {
  /** Handshakes completed. */
  handshakes: number;
  /** Connections refused before or during the handshake: unknown or no SNI, an old protocol, garbage, a stalled hello. */
  refused: number;
  /** Plain HTTP requests sent to the TLS port (answered 400). */
  plainHttp: number;
  /** Plain HTTP requests answered 308 to their https:// URL. */
  redirects: number;
  /** ACME HTTP-01 challenge requests answered (known token or not). */
  challenges: number;
}

/** The data plane has a newer table (or certificate set) than the one offered: two daemons raced, or the clock went back. */
export class StaleRouteTableError extends Error {
  readonly offered: number;
  /** The generation the data plane has; a table must be newer than this to be taken. */
  readonly current: number;
  constructor(offered: number, current: number, what: 'route table' | 'certificate set' = 'route table') {
    super(`${what} generation ${offered} is older than the proxy's ${current}`);
    this.offered = offered;
    this.current = current;
  }
}

/** A certificate set the data plane will not load: every problem, each naming its field (never a key). */
export class InvalidCertificateSetError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the certificate set was refused: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The data-plane port. The built-in proxy implements it; an HAProxy-driven one can too. */
export interface DataPlane {
  /** Starts (or re-attaches to) the data plane; resolves with the public listening address. */
  start(): Promise<{ host: string; port: number }>;
  /** Takes the whole table; one older than the table it has is refused with StaleRouteTableError. */
  apply(table: RouteTable): Promise<void>;
  /**
   * Takes the whole certificate set; an older one is refused with StaleRouteTableError (same rule), an
   * invalid one with InvalidCertificateSetError (the set in use keeps serving). Connections keep the
   * certificate they began with.
   */
  applyCertificates(set: CertificateSet): Promise<void>;
  /** Replaces the ACME HTTP-01 answers the HTTP listener serves (an invalid map is refused with an Error). */
  setChallenges(challenges: AcmeChallenges): Promise<void>;
  stats(): Promise<ProxyStats>;
  /** Detach from the data plane, leaving it serving (control-plane restart). */
  detach(): Promise<void>;
  /** Stop the data plane itself (full shutdown). */
  stop(): Promise<void>;
}
