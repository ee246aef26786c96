/** `services.<name>.health`: the check command run inside a service's container. */
import { s } from '../schema-dsl.ts';

export interface ServiceHealthSpec {
  readonly command: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

export const serviceHealth = s.object({
  doc: 'The service\'s health check: a command run inside its container, exit code 0 meaning healthy.',
  details:
    'berth runs `command` every `interval`; a run longer than `timeout` counts as a failure, and `retries` ' +
    'failures in a row make the service unhealthy. Failures within `start_period` of a start do not count. ' +
    'Processes that list the service in `depends_on` start once it is healthy.',
  optional: true,
  unset: 'the service counts as healthy once its container is running',
  aliases: { test: 'command', cmd: 'command', every: 'interval', period: 'interval', grace: 'start_period', start: 'start_period' },
  fields: {
    command: s.string({
      doc: 'Shell command run inside the service\'s container; exit code 0 means healthy.',
      type: 'command',
      example: 'redis-cli ping',
      required: 'it is the check',
      notBlank: true,
    }),
    interval: { as: 'intervalMs', node: s.duration({ doc: 'Time between two checks.', example: '1s', default: '2s', min: '100ms', max: '10m' }) },
    timeout: { as: 'timeoutMs', node: s.duration({ doc: 'How long one check may take before it counts as failed.', example: '3s', default: '5s', min: '100ms', max: '10m' }) },
    retries: s.int({ doc: 'Failed checks in a row that make the service unhealthy.', example: 5, default: 3, min: 1, max: 100 }),
    start_period: {
      as: 'startPeriodMs',
      node: s.duration({
        doc: 'Time after the service starts during which failed checks do not count.',
        details: 'A check that passes within it makes the service healthy at once, so a long one costs nothing to a service that starts fast; it keeps a database that needs a few seconds to boot on a busy machine from being declared unhealthy before it could answer.',
        example: '60s',
        default: '30s',
        min: '0s',
        max: '1h',
      }),
    },
  },
});
