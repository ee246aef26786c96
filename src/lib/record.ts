/**
 * Records keyed by names a user wrote (processes, services, env, volumes) are null-prototype objects, so
 * `constructor`, `toString` or `__proto__` are ordinary keys: a lookup of a name that is not there gives
 * undefined instead of something inherited from Object.prototype, and assigning `__proto__` defines a key.
 */

/** A null-prototype object with these entries; a repeated key keeps its last value. */
export function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  // On an object without a prototype, assignment defines an own property even for `__proto__`.
  for (const [key, value] of entries) out[key] = value;
  return out;
}

