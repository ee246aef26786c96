import { fail } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';
import { closest } from '../manifest/suggest.ts';

/** The most replicas one process may have (as berth.yaml allows). */
export const MAX_REPLICAS = 20;

/** Replicas set with `berth scale`, by process name (a null-prototype record: names are the user's). */
export type Formation = Readonly<Record<string, number>>;

// Manifests come back from the store through JSON.parse, so `processes` may be a plain object: only own
// keys are processes (`toString` is not one), and records built here have no prototype.
const hasProcess = (manifest: Manifest, name: string) => Object.hasOwn(manifest.processes, name);
const minReplicas = (name: string) => (name === 'web' ? 1 : 0);
const validReplicas = (name: string, value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= minReplicas(name) && value <= MAX_REPLICAS;

/** A null-prototype record of these entries: `__proto__` or `constructor` are ordinary keys in it. */
export function formationOf(entries: Iterable<readonly [string, number]>): Formation {
  const out = Object.create(null) as Record<string, number>;
  for (const [name, replicas] of entries) out[name] = replicas;
  return out;
}

/**
 * A manifest with the app's formation (replicas set with `berth scale`) applied (pure). Processes the
 * manifest no longer has, and counts out of bounds (a formation saved before they were checked), are
 * ignored; the result is frozen like the manifest.
 */
export function withFormation(manifest: Manifest, formation: Formation): Manifest {
  const entries = Object.entries(formation).filter(([name, replicas]) => hasProcess(manifest, name) && validReplicas(name, replicas));
  if (entries.length === 0) return manifest;
  const processes = Object.create(null) as Record<string, Manifest['processes'][string]>;
  for (const [name, spec] of Object.entries(manifest.processes)) processes[name] = spec;
  for (const [name, replicas] of entries) processes[name] = Object.freeze({ ...processes[name], replicas });
  return Object.freeze({ ...manifest, processes: Object.freeze(processes) });
}

/** Checks `web=3 worker=0` against the release's processes; throws REQUEST_INVALID naming the entry. */
export function checkFormation(manifest: Manifest, requested: ReadonlyMap<string, unknown>): Formation {
  const names = Object.keys(manifest.processes);
  const out = new Map<string, number>();
  for (const [name, value] of requested) {
    if (!hasProcess(manifest, name)) {
      const guess = closest(name, names);
      const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : `one of: ${names.join(', ')}`;
      throw fail('REQUEST_INVALID', { issues: [{ path: `processes.${name}`, message: `the current release has no process ${JSON.stringify(name)}`, fix }] });
    }
    if (!validReplicas(name, value)) {
      const min = minReplicas(name);
      throw fail('REQUEST_INVALID', { issues: [{ path: `processes.${name}`, message: `must be a whole number from ${min} to ${MAX_REPLICAS}`, fix: `${name}=${Math.max(min, 1)}` }] });
    }
    out.set(name, value);
  }
  if (out.size === 0) throw fail('REQUEST_INVALID', { issues: [{ path: 'processes', message: 'nothing to scale', fix: 'berth scale <app> web=2' }] });
  return formationOf(out);
}
