import { fail } from '../errors/catalogue.ts';
import { EVENT_TYPES } from '../model/events.ts';

/** The most entries one `type` filter may list. */
export const MAX_TYPE_PATTERNS = 32;

/**
 * A `type` filter as exact event types: a comma-separated list of types (`deploy.failed`) or families
 * (`cert.*`, or just `cert`: every type starting `cert.`). An entry no event type matches is
 * REQUEST_INVALID on `type`, naming the families there are: a typo would otherwise read as "no events".
 */
export function expandTypes(text: string): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const issue = (message: string) => fail('REQUEST_INVALID', { issues: [{ path: 'type', message, fix: `event types or families, comma-separated, such as deploy.failed,instance.* (families: ${families().join(', ')})` }] });
  if (entries.length === 0) throw issue('names no event type');
  if (entries.length > MAX_TYPE_PATTERNS) throw issue(`lists ${entries.length} entries; at most ${MAX_TYPE_PATTERNS}`);
  const types = new Set<string>();
  for (const entry of entries) {
    const family = entry.endsWith('.*') ? entry.slice(0, -2) : entry;
    const matched = EVENT_TYPES.filter((type) => type === entry || type.startsWith(`${family}.`));
    const shown = entry.length > 64 ? `${entry.slice(0, 64)}…` : entry;
    if (matched.length === 0) throw issue(`${JSON.stringify(shown)} is no event type`);
    for (const type of matched) types.add(type);
  }
  return [...types];
}

/** `deploy`, `instance`, ...: the first part of every type, once each. */
function families(): string[] {
  return [...new Set(EVENT_TYPES.map((type) => type.split('.')[0]))];
}
