/**
 * How the app's env vars as set differ from the env the serving release runs with: names set or changed
 * since it was made (a failed rollout leaves its change saved; a rollback serves an older snapshot), and
 * names unset since that it still has. The next release takes the vars as set.
 */
export function envDrift(set: Record<string, string>, serving: Record<string, string> | null): { pending: Set<string>; unsetButServed: string[] } {
  // Own keys only: a variable named `toString` must not meet Object.prototype's.
  const pending = new Set(Object.keys(set).filter((name) => !serving || !Object.hasOwn(serving, name) || serving[name] !== set[name]));
  const unsetButServed = serving ? Object.keys(serving).filter((name) => !Object.hasOwn(set, name)).sort() : [];
  return { pending, unsetButServed };
}
