/**
 * The facts a policy may name, each with its CEL type and the moments it exists at. A policy naming a
 * fact not listed here for its moment is refused when its file (or berth.yaml) is loaded (./compile.ts),
 * so a typo cannot become a rule that silently never matches. The values are bound as qualified names
 * (`host.diskFreeBytes`), which CEL resolves from the select chain the expression writes.
 *
 * No CEL here: the daemon's thread reads this module too (the facts it sends to the policy worker, a
 * verdict's shown values), and @bufbuild/cel is loaded only in that worker (./engine.ts). A type is named
 * by a tag that ./cel-types.ts turns into CEL's own in the worker.
 */

/** When a policy applies: before a deploy, before each canary step, before promotion (the last two: the canary work). */
export const MOMENTS = ['deploy', 'canary_step', 'promote'] as const;
export type Moment = (typeof MOMENTS)[number];

/** A fact's CEL type, by name: int and double scalars, strings, dyn (a string or null), two collections. */
export type FactType = 'int' | 'double' | 'string' | 'dyn' | 'list<string>' | 'map<string,int>';

export interface FactDecl {
  type: FactType;
  /** A short sample value of the type: a load-time trial run catches type errors with it (./compile.ts). */
  sample: unknown;
  doc: string;
  moments: readonly Moment[];
}

const ALL: readonly Moment[] = MOMENTS;
const CANARY: readonly Moment[] = ['canary_step', 'promote'];

const traffic = (side: 'canary' | 'stable'): Record<string, FactDecl> => ({
  [`${side}.requests`]: { type: 'int', sample: 1n, doc: `requests the ${side} answered in the window`, moments: CANARY },
  [`${side}.requestsPerSecond`]: { type: 'double', sample: 1, doc: `the ${side}'s requests per second`, moments: CANARY },
  [`${side}.errorRate`]: { type: 'double', sample: 0, doc: `the ${side}'s 5xx and proxy errors over its requests, 0..1 (0 without requests: read ${side}.requests)`, moments: CANARY },
  [`${side}.p50`]: { type: 'double', sample: 1, doc: `the ${side}'s median latency in ms (0 without requests)`, moments: CANARY },
  [`${side}.p95`]: { type: 'double', sample: 1, doc: `the ${side}'s 95th percentile latency in ms (0 without requests)`, moments: CANARY },
  [`${side}.p99`]: { type: 'double', sample: 1, doc: `the ${side}'s 99th percentile latency in ms (0 without requests)`, moments: CANARY },
});

export const FACTS: Readonly<Record<string, FactDecl>> = Object.assign(Object.create(null) as Record<string, FactDecl>, {
  'host.diskFreeBytes': { type: 'int', sample: 1n, doc: 'bytes free for berth on the filesystem of the data directory', moments: ALL },
  'host.load1': { type: 'double', sample: 1, doc: 'the 1-minute load average', moments: ALL },
  'host.memoryFreeBytes': { type: 'int', sample: 1n, doc: 'free memory in bytes', moments: ALL },
  'host.memoryTotalBytes': { type: 'int', sample: 1n, doc: 'total memory in bytes', moments: ALL },
  'host.cores': { type: 'int', sample: 1n, doc: 'CPU cores available to berth', moments: ALL },
  'app.name': { type: 'string', sample: 'app', doc: 'the app', moments: ALL },
  'release.version': { type: 'int', sample: 1n, doc: 'the release number (3 for v3)', moments: ALL },
  'release.image': { type: 'dyn', sample: 'img', doc: 'the image (with digest) an image app runs; null for a built app', moments: ALL },
  'release.env': { type: 'list<string>', sample: ['NAME'], doc: 'the names (never the values) of the release\'s env vars', moments: ALL },
  'release.processes': { type: 'map<string,int>', sample: new Map([['web', 1n]]), doc: 'each process and its replicas', moments: ALL },
  'release.checks': { type: 'list<string>', sample: ['lint'], doc: 'the checks the release passed (empty until the check pipeline exists)', moments: ALL },
  ...traffic('canary'),
  ...traffic('stable'),
});

export const factNames = (moment: Moment): string[] => Object.keys(FACTS).filter((name) => FACTS[name]!.moments.includes(moment));

/** How many entries of a list or map fact are bound: keeps a nested comprehension's cost bounded (./compile.ts). */
export const MAX_FACT_ENTRIES = 200;

/** The host, as `host.*` holds it. */
export interface HostFacts {
  diskFreeBytes: number;
  load1: number;
  memoryFreeBytes: number;
  memoryTotalBytes: number;
  cores: number;
}

/** A release, as `release.*` holds it. */
export interface ReleaseFacts {
  version: number;
  image: string | null;
  env: readonly string[];
  processes: Readonly<Record<string, number>>;
  checks: readonly string[];
}

/** One side's traffic, shaped as `Metrics.appTraffic` gives it (a release's TrafficFigures). */
export interface TrafficFacts {
  requests: number;
  requestsPerSecond: number;
  errorRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

/** Everything known at a moment; canary and stable only at canary_step and promote. */
export interface Facts {
  host: HostFacts;
  app: { name: string };
  release: ReleaseFacts;
  canary?: TrafficFacts;
  stable?: TrafficFacts;
}

const int = (n: number): bigint => BigInt(Math.max(-(2 ** 53), Math.min(2 ** 53, Math.trunc(Number.isFinite(n) ? n : 0))));
const list = (items: readonly string[]): string[] => items.slice(0, MAX_FACT_ENTRIES);

function trafficBindings(side: string, t: TrafficFacts): Record<string, unknown> {
  return {
    [`${side}.requests`]: int(t.requests),
    [`${side}.requestsPerSecond`]: t.requestsPerSecond,
    [`${side}.errorRate`]: t.errorRate ?? 0,
    [`${side}.p50`]: t.latencyMs.p50 ?? 0,
    [`${side}.p95`]: t.latencyMs.p95 ?? 0,
    [`${side}.p99`]: t.latencyMs.p99 ?? 0,
  };
}

/** The facts as CEL bindings by qualified name: integers as bigint, lists cut at MAX_FACT_ENTRIES. */
export function bindingsOf(facts: Facts): Record<string, unknown> {
  const h = facts.host;
  const r = facts.release;
  return {
    'host.diskFreeBytes': int(h.diskFreeBytes),
    'host.load1': h.load1,
    'host.memoryFreeBytes': int(h.memoryFreeBytes),
    'host.memoryTotalBytes': int(h.memoryTotalBytes),
    'host.cores': int(h.cores),
    'app.name': facts.app.name,
    'release.version': int(r.version),
    'release.image': r.image,
    'release.env': list(r.env),
    'release.processes': new Map(Object.entries(r.processes).slice(0, MAX_FACT_ENTRIES).map(([k, v]) => [k, int(v)])),
    'release.checks': list(r.checks),
    ...(facts.canary ? trafficBindings('canary', facts.canary) : {}),
    ...(facts.stable ? trafficBindings('stable', facts.stable) : {}),
  };
}

/** A bound value as it goes into an event: plain JSON, lists cut at 20 entries. */
export function shownValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.slice(0, 20);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].slice(0, 20).map(([k, v]) => [k, shownValue(v)]));
  return value;
}
