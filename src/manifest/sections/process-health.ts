/** `processes.<name>.health`: how berth tells that a process other than `web` is healthy. */
import { s } from '../schema-dsl.ts';

export interface ProcessHealthSpec {
  /** The file the process touches, and how old it may get. */
  readonly heartbeat: { readonly file: string; readonly maxAgeMs: number } | undefined;
  readonly command: string | undefined;
  readonly intervalMs: number;
}

export const processHealth = s.object({
  doc: 'How berth tells that this process is healthy: a `heartbeat` file that it keeps touching, or a `command` that exits 0.',
  details:
    'Set exactly one of `heartbeat` and `command`; berth checks every `interval`, and restarts the process after ' +
    '3 failed checks in a row (counted like a crash by `restart`). Processes that list this one ' +
    'in `depends_on` start once it is healthy. `web` has no `health` here: the top-level `health` gate checks it.',
  optional: true,
  unset: 'the process counts as healthy once it is running',
  example: { heartbeat: '/tmp/heartbeat', max_age: '1m', interval: '10s' },
  aliases: { file: 'heartbeat', heartbeat_file: 'heartbeat', cmd: 'command', test: 'command', every: 'interval', period: 'interval', stale_after: 'max_age' },
  fields: {
    heartbeat: s.string({
      doc: 'A file the process touches while it works: an absolute path in its container, or relative to the release directory under the process runtime.',
      type: 'path',
      example: '/tmp/heartbeat',
      optional: true,
      unset: 'no heartbeat file',
      notBlank: true,
    }),
    max_age: {
      as: 'maxAgeMs',
      node: s.duration({ doc: 'How long after its last change the heartbeat file still means healthy.', example: '1m', default: '30s', min: '1s', max: '1h' }),
    },
    command: s.string({
      doc: 'Shell command run in the process\'s container (or release directory); exit code 0 means healthy.',
      type: 'command',
      example: 'node check.js',
      optional: true,
      unset: 'no check command',
      notBlank: true,
    }),
    interval: {
      as: 'intervalMs',
      node: s.duration({ doc: 'Time between two checks.', example: '10s', default: '5s', min: '100ms', max: '10m' }),
    },
  },
  resolve: (h): ProcessHealthSpec => ({
    heartbeat: h.heartbeat === undefined ? undefined : { file: h.heartbeat, maxAgeMs: h.maxAgeMs },
    command: h.command,
    intervalMs: h.intervalMs,
  }),
  rules: [
    {
      doc: 'Exactly one of `heartbeat` and `command`.',
      check: (h) =>
        h.heartbeat !== undefined && h.command !== undefined ? {
          key: '',
          message: 'sets both `heartbeat` and `command`, and berth checks a process one way',
          fix: 'keep either `heartbeat:` or `command:` and remove the other',
        }
        : h.heartbeat === undefined && h.command === undefined ? {
          key: '',
          message: 'sets neither `heartbeat` nor `command`, so berth has nothing to check',
          fix: 'add `heartbeat: /tmp/heartbeat` (a file the process touches) or `command: node check.js` (exit 0 means healthy)',
        }
        : undefined,
    },
    {
      doc: '`max_age` goes only with `heartbeat`.',
      check: (h, written) =>
        written.max_age != null && h.heartbeat === undefined ? {
          key: 'max_age',
          message: 'applies only to a `heartbeat` file, and this check is a `command`',
          fix: 'remove `max_age`',
        } : undefined,
    },
  ],
  // Editors: one of the two, never both (`health:` with nothing after it is null, and unset).
  schema: { if: { type: 'object' }, then: { oneOf: [{ required: ['heartbeat'] }, { required: ['command'] }] } },
});
