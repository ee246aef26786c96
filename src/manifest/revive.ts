/**
 * A Manifest that crossed a boundary as plain data (JSON in the store, a structured clone from the parse
 * worker) comes back with ordinary objects for its records, so `services.constructor` would find
 * Object.prototype's. reviveManifest makes the records null-prototype again (lib/record.ts) and freezes the
 * whole, as parseManifest returns it. It tolerates manifests recorded by older versions of berth.
 */
import { recordOf } from '../lib/record.ts';
import type { Manifest } from './schema.ts';

export function reviveManifest(value: Manifest): Manifest {
  const services = value.services === undefined ? undefined : revived(value.services, (spec) => ({ ...spec, env: revived(spec.env), volumes: revived(spec.volumes) }));
  return deepFreeze({ ...value, processes: revived(value.processes), services, env: revived(value.env) } as Manifest);
}

function revived<T, U = T>(record: Readonly<Record<string, T>>, each?: (value: T) => U): Record<string, U> {
  if (typeof record !== 'object' || record === null) return record;
  return recordOf(Object.entries(record).map(([key, value]) => [key, each ? each(value) : (value as unknown as U)]));
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
