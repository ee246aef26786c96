/** `health`: the gate a new release's `web` instances pass before they get traffic, and the checks after. */
import { formatDuration } from '../../lib/duration.ts';
import { s } from '../schema-dsl.ts';

export const health = s.object({
  doc: 'The health gate: a new release gets traffic only once its `web` instances answer HTTP probes.',
  details:
    'berth requests `path` from each new `web` instance every `interval`. An answer with status 2xx or 3xx ' +
    'within `timeout` is a success; after `healthy_after` successes in a row the instance is healthy. If the ' +
    'release is not healthy by `deadline`, the deploy fails and the previous release keeps serving. Once ' +
    'serving, each `web` instance is probed the same way every `interval` (at least every 5s); 3 failures in a ' +
    'row restart it, counted like a crash by `restart`.',
  aliases: { url: 'path', endpoint: 'path', every: 'interval', period: 'interval', retries: 'healthy_after', successes: 'healthy_after', threshold: 'healthy_after' },
  fields: {
    path: s.string({
      doc: 'URL path that berth requests; any 2xx or 3xx answer counts as healthy.',
      type: 'path',
      example: '/health',
      default: '/',
      maxLength: 1024,
      pattern: /^\/[^\s#]*$/,
      patternHint: 'a path that starts with `/` and has no spaces or `#`',
      suggest: (path) => `/${path.trim().replace(/^\/+/, '')}`,
    }),
    interval: {
      as: 'intervalMs',
      node: s.duration({ doc: 'Time between two probes of an instance.', example: '2s', default: '1s', min: '100ms', max: '60s' }),
    },
    timeout: {
      as: 'timeoutMs',
      node: s.duration({ doc: 'How long one probe may take before it counts as failed.', example: '5s', default: '2s', min: '100ms', max: '60s' }),
    },
    healthy_after: {
      as: 'healthyAfter',
      node: s.int({ doc: 'Successful probes in a row that make an instance healthy.', example: 3, default: 2, min: 1, max: 20 }),
    },
    deadline: {
      as: 'deadlineMs',
      node: s.duration({ doc: 'How long a new release may take to become healthy before the deploy fails.', example: '2m', default: '60s', min: '1s', max: '30m' }),
    },
  },
  rules: [
    {
      doc: '`timeout` must not be longer than `deadline`.',
      check: (h) =>
        h.timeoutMs <= h.deadlineMs ? undefined : {
          key: 'timeout',
          message: `is ${formatDuration(h.timeoutMs)}, longer than \`deadline\` (${formatDuration(h.deadlineMs)}), so the gate would give up before a probe could time out`,
          fix: `write \`timeout: ${formatDuration(h.deadlineMs)}\` or less, or raise \`deadline\``,
        },
    },
  ],
});
