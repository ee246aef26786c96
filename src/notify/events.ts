/**
 * Which events a notifier hears of. By default what someone on call wants to know: a deploy started (a
 * rollback is a deploy of kind `rollback`), succeeded or failed; an instance unhealthy, healthy again or
 * in a crash loop; an app degraded or recovered. `--events` narrows (or widens) that to types of the
 * event union (src/model/events.ts): a later issue's events (updates, bans, expiries) are listed there
 * and can be asked for by name, or added here to be posted by default.
 */
import { fail } from '../errors/catalogue.ts';
import { EVENT_TYPES } from '../model/events.ts';

export const DEFAULT_EVENTS: readonly string[] = [
  'deploy.queued',
  'deploy.succeeded',
  'deploy.failed',
  'instance.unhealthy',
  'instance.healthy',
  'instance.crashloop',
  'app.degraded',
  'app.recovered',
];

/** Types a notifier may not ask for: one line of build or app output each, thousands per deploy. */
const TOO_CHATTY = new Set(['build.log', 'release.log', 'image.pull', 'health.probe']);

export const MAX_EVENT_TYPES = 64;

/**
 * The `events` of `berth notify add --events a,b`: each a known type (NOTIFIER_EVENTS_INVALID naming the
 * unknown ones), none repeated; order kept. Null (not given) means DEFAULT_EVENTS.
 */
export function checkEventTypes(types: readonly string[] | undefined): string[] | null {
  if (types === undefined) return null;
  const known = new Set<string>(EVENT_TYPES);
  const unknown = types.filter((t) => !known.has(t));
  const chatty = types.filter((t) => TOO_CHATTY.has(t));
  if (types.length === 0) throw fail('NOTIFIER_EVENTS_INVALID', { unknown: [], reason: 'the list is empty' });
  if (types.length > MAX_EVENT_TYPES) throw fail('NOTIFIER_EVENTS_INVALID', { unknown: [], reason: `more than ${MAX_EVENT_TYPES} types` });
  if (unknown.length > 0) throw fail('NOTIFIER_EVENTS_INVALID', { unknown: unknown.slice(0, 10), reason: 'not event types berth records' });
  if (chatty.length > 0) throw fail('NOTIFIER_EVENTS_INVALID', { unknown: chatty, reason: 'one event per line of output: far too many to post' });
  return [...new Set(types)];
}

/** The types a notifier wants. */
export const wantedTypes = (events: readonly string[] | null): readonly string[] => events ?? DEFAULT_EVENTS;
