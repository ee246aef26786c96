/**
 * Where berth's proxy spends its time under h2 load: the proxy started once more with `--cpu-prof`
 * (after the measured runs, so the profiler's cost is in no number), an h2load run against it, and the
 * `.cpuprofile` it writes on exit read for self time per function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HotFunction {
  /** `name (file:line)` with paths relative to the repository. */
  where: string;
  selfMs: number;
  /** Share of the samples in which the proxy was not idle. */
  share: number;
  /** The nearest berth function on the stack below it, most of the time (none for berth's own functions). */
  via?: string;
}

/** Where busy time went, by kind of code: berth's own functions, Node's JS internals, native bindings, GC, the rest. */
export type Share = Record<'berth' | 'node' | 'native' | 'gc' | 'program', number>;

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  top: HotFunction[];
  /** Fractions of the busy time, by kind of code. */
  byKind: Share;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Labels V8 gives time it cannot put on a JS function. */
const EXPLAIN: Record<string, string> = {
  '(program)': '(program): native code outside any JS frame (libuv, TLS, nghttp2)',
  '(garbage collector)': '(garbage collector)',
};

/** dist/ is src/ with its types blanked out in place (scripts/build.ts), so a dist/ line is the same src/ line. */
const sourceOf = (path: string): string => (path.startsWith('dist/') && path.endsWith('.js') ? `src/${path.slice(5, -3)}.ts` : path);

export function summarizeProfile(profile: CpuProfile, root: string, limit = 5): ProfileSummary {
  const where = new Map<number, string>();
  const parent = new Map<number, number>();
  const ours = new Set<number>();
  const kind = new Map<number, keyof Share>();
  const prefix = `file://${root.endsWith('/') ? root : `${root}/`}`;
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    where.set(node.id, EXPLAIN[name] ?? (url ? `${name} (${sourceOf(url.replace(prefix, ''))}:${lineNumber + 1})` : name));
    if (url.startsWith(prefix)) ours.add(node.id);
    kind.set(node.id, url.startsWith(prefix) ? 'berth' : url ? 'node' : name === '(garbage collector)' ? 'gc' : name === '(program)' ? 'program' : 'native');
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  /** The nearest of berth's own frames at or below `id` on the stack. */
  const berthFrame = (id: number): number | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (ours.has(at)) return at;
    return undefined;
  };
  const selfUs = new Map<string, number>();
  const kindUs: Share = { berth: 0, node: 0, native: 0, gc: 0, program: 0 };
  const viaUs = new Map<string, Map<string, number>>();
  let idleUs = 0;
  let busyUs = 0;
  // timeDeltas[i] is the time since the previous sample; it belongs to the sample it precedes.
  profile.samples.forEach((id, i) => {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    const key = where.get(id) ?? '(unknown)';
    if (key === '(idle)') return void (idleUs += delta);
    busyUs += delta;
    kindUs[kind.get(id) ?? 'native'] += delta;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    const frame = ours.has(id) ? undefined : berthFrame(id);
    if (frame === undefined) return;
    const vias = viaUs.get(key) ?? new Map<string, number>();
    const via = where.get(frame)!;
    vias.set(via, (vias.get(via) ?? 0) + delta);
    viaUs.set(key, vias);
  });
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => ({ where: key, selfMs: us / 1000, share: busyUs ? us / busyUs : 0, via: mostOf(viaUs.get(key)) }));
  const byKind = Object.fromEntries(Object.entries(kindUs).map(([k, us]) => [k, busyUs ? us / busyUs : 0])) as Share;
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, top, byKind };
}

const mostOf = (counts: Map<string, number> | undefined): string | undefined => (counts?.size ? [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0] : undefined);

/** Reads the one `.cpuprofile` a process wrote into `dir`. */
export function readProfile(dir: string, root: string): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}: did the proxy exit cleanly?`);
  return summarizeProfile(JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as CpuProfile, root);
}
