/**
 * `restart`: how berth restarts a process that exits on its own, at the top level and per process
 * (`processes.<name>.restart`, key by key over the top level).
 */
import { formatDuration } from '../../lib/duration.ts';
import { s, type Infer } from '../schema-dsl.ts';

const RESTART_DOCS = {
  max_restarts: 'Restarts allowed within `window` before the process is declared crash-looping.',
  window: 'The sliding time window that `max_restarts` counts in.',
  backoff: 'Wait before the first restart; it doubles after each further crash.',
  max_backoff: 'The longest wait between two restarts.',
} as const;
const RESTART_RANGES = {
  max_restarts: { min: 0, max: 100 },
  window: { min: '1s', max: '24h' },
  backoff: { min: '100ms', max: '10m' },
  max_backoff: { min: '100ms', max: '1h' },
} as const;
const restartAliases = { retries: 'max_restarts', limit: 'max_restarts', delay: 'backoff', period: 'window' };

export const restart = s.object({
  doc: 'Supervision: how berth restarts a process that exits on its own.',
  details:
    'A crashed process is restarted after `backoff`, which doubles with each crash up to `max_backoff`. ' +
    'More than `max_restarts` restarts within `window` and the process is declared crash-looping and left stopped. ' +
    'A process can change any of these keys for itself under `processes.<name>.restart`.',
  aliases: restartAliases,
  fields: {
    max_restarts: {
      as: 'maxRestarts',
      node: s.int({ doc: RESTART_DOCS.max_restarts, example: 10, default: 5, ...RESTART_RANGES.max_restarts }),
    },
    window: {
      as: 'windowMs',
      node: s.duration({ doc: RESTART_DOCS.window, example: '5m', default: '60s', ...RESTART_RANGES.window }),
    },
    backoff: {
      as: 'backoffMs',
      node: s.duration({ doc: RESTART_DOCS.backoff, example: '2s', default: '1s', ...RESTART_RANGES.backoff }),
    },
    max_backoff: {
      as: 'maxBackoffMs',
      node: s.duration({ doc: RESTART_DOCS.max_backoff, example: '1m', default: '30s', ...RESTART_RANGES.max_backoff }),
    },
  },
  rules: [
    {
      doc: '`backoff` must not be longer than `max_backoff`.',
      check: (r) =>
        r.backoffMs <= r.maxBackoffMs ? undefined : {
          key: 'backoff',
          message: `is ${formatDuration(r.backoffMs)}, longer than \`max_backoff\` (${formatDuration(r.maxBackoffMs)})`,
          fix: `write \`backoff: ${formatDuration(r.maxBackoffMs)}\` or less, or raise \`max_backoff\``,
        },
    },
  ],
});

/** Unset keys of a process's `restart` take the top-level value. */
const topLevel = (key: string) => `the top-level \`restart.${key}\``;

export const restartOverride = s.object({
  doc: 'This process\'s own restart policy: each key set here replaces the top-level `restart` key of the same name.',
  unset: 'the top-level `restart`, key by key',
  aliases: restartAliases,
  fields: {
    max_restarts: { as: 'maxRestarts', node: s.int({ doc: RESTART_DOCS.max_restarts, example: 3, optional: true, unset: topLevel('max_restarts'), ...RESTART_RANGES.max_restarts }) },
    window: { as: 'windowMs', node: s.duration({ doc: RESTART_DOCS.window, example: '10m', optional: true, unset: topLevel('window'), ...RESTART_RANGES.window }) },
    backoff: { as: 'backoffMs', node: s.duration({ doc: RESTART_DOCS.backoff, example: '5s', optional: true, unset: topLevel('backoff'), ...RESTART_RANGES.backoff }) },
    max_backoff: { as: 'maxBackoffMs', node: s.duration({ doc: RESTART_DOCS.max_backoff, example: '5m', optional: true, unset: topLevel('max_backoff'), ...RESTART_RANGES.max_backoff }) },
  },
});

export type RestartSpec = Infer<typeof restart>;
/** A process's own `restart` keys, before they are merged with the top-level ones. */
export type RestartOverride = Infer<typeof restartOverride>;

/** A process's restart policy: its own keys, each unset one taken from the top level. */
export function mergeRestart(top: RestartSpec, own: RestartOverride): RestartSpec {
  return {
    maxRestarts: own.maxRestarts ?? top.maxRestarts,
    windowMs: own.windowMs ?? top.windowMs,
    backoffMs: own.backoffMs ?? top.backoffMs,
    maxBackoffMs: own.maxBackoffMs ?? top.maxBackoffMs,
  };
}
