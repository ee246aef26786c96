import { fail } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';

/** The most replicas one process may have (as berth.yaml allows). */
export const MAX_REPLICAS = 20;

/**
 * A manifest with the app's formation (replicas set with `berth scale`) applied (pure). Processes the
 * manifest no longer has are ignored; the result is frozen like the manifest.
 */
export function withFormation(manifest: Manifest, formation: Record<string, number>): Manifest {
  const entries = Object.entries(formation).filter(([name]) => manifest.processes[name]);
  if (entries.length === 0) return manifest;
  const processes = { ...manifest.processes };
  for (const [name, replicas] of entries) processes[name] = Object.freeze({ ...processes[name], replicas });
  return Object.freeze({ ...manifest, processes: Object.freeze(processes) });
}

/** Checks `web=3 worker=0` against the release's processes; throws REQUEST_INVALID naming the entry. */
export function checkFormation(manifest: Manifest, requested: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const names = Object.keys(manifest.processes);
  for (const [name, value] of Object.entries(requested)) {
    if (!manifest.processes[name]) {
      throw fail('REQUEST_INVALID', { issues: [{ path: `processes.${name}`, message: `the current release has no process "${name}"`, fix: `one of: ${names.join(', ')}` }] });
    }
    const min = name === 'web' ? 1 : 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_REPLICAS) {
      throw fail('REQUEST_INVALID', { issues: [{ path: `processes.${name}`, message: `must be a whole number from ${min} to ${MAX_REPLICAS}`, fix: `${name}=${Math.max(min, 1)}` }] });
    }
    out[name] = value;
  }
  if (Object.keys(out).length === 0) throw fail('REQUEST_INVALID', { issues: [{ path: 'processes', message: 'nothing to scale', fix: 'berth scale <app> web=2' }] });
  return out;
}
