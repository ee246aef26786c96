/**
 * `checks`: the app's check pipeline (lint, test, audit, scan, integration): ordered named commands run
 * with the new build, fail-fast. `build` checks run before the release is recorded and before any
 * instance starts; `switch` checks run once the new instances are healthy, before traffic moves to them,
 * with their address.
 */
import { s, type Infer } from '../schema-dsl.ts';

const check = s.object({
  doc: 'One check: a named command; a non-zero exit stops the deploy and names the check.',
  aliases: { command: 'run', cmd: 'run', stage: 'when', phase: 'when', deadline: 'timeout' },
  fields: {
    name: s.string({
      doc: 'The check\'s name, in the deploy output, events, the audit and the `release.checks` policy fact.',
      type: 'check name',
      example: 'lint',
      maxLength: 63,
      pattern: /^[a-z0-9][a-z0-9_.-]{0,62}$/,
      patternHint: '1 to 63 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit',
      required: 'the deploy output names the check',
    }),
    run: s.string({
      doc: 'Shell command run in the new build (a one-off container under the Docker runtime) with the app\'s environment.',
      type: 'command',
      example: 'npm run lint',
      notBlank: true,
      maxLength: 4096,
      required: 'it is what the check runs',
    }),
    when: s.enum({
      doc: '`build`: after the build, before the release is recorded and anything starts. `switch`: after the new instances are healthy, before traffic moves to them; BERTH_TARGET_URL holds a new web instance\'s URL.',
      values: ['build', 'switch'],
      example: 'build',
      default: 'build',
    }),
    timeout: {
      as: 'timeoutMs',
      node: s.duration({ doc: 'How long the check may run before it is stopped and counts as failed.', example: '10m', default: '10m', min: '1s', max: '2h' }),
    },
  },
});

export const checks = s.array({
  doc: 'The check pipeline: commands run in order with the new build; the first that fails stops the deploy, naming it.',
  details:
    'Each check\'s output and duration stream to `berth deploy` and stay with the deployment\'s events. ' +
    '`berth deploy --skip-checks` skips them, and the audit records that it did. A rollback runs none (its release passed them).',
  items: check,
  maxItems: 20,
  default: [],
  example: [{ name: 'lint', run: 'npm run lint' }, { name: 'test', run: 'npm test' }, { name: 'smoke', run: 'node smoke.js', when: 'switch' }],
});

export type CheckSpec = Infer<typeof check>;
