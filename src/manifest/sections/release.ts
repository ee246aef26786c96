/** `release`: the command run once per deploy before the new release gets traffic. */
import { s, type Infer } from '../schema-dsl.ts';

export const release = s.shorthand({
  doc: 'A command, such as database migrations, run once per deploy before the new release gets traffic.',
  details:
    'It runs in a one-off process (a one-off container under the Docker runtime) with the new release\'s code ' +
    'and environment, after `build` and once the `services` are running. A non-zero exit, or running longer ' +
    'than `timeout`, fails the deploy and the current release keeps serving. A string is short for `{ command: ... }`.',
  key: 'command',
  example: { command: 'node migrate.js', timeout: '10m' },
  optional: true,
  unset: 'nothing runs before traffic moves',
  object: s.object({
    doc: 'The release command.',
    aliases: { cmd: 'command', run: 'command', deadline: 'timeout', max_time: 'timeout' },
    fields: {
      command: s.string({
        doc: 'Shell command run once per deploy in the new release; a non-zero exit aborts the deploy.',
        type: 'command',
        example: 'node migrate.js',
        required: 'it is what `release` runs',
        notBlank: true,
      }),
      timeout: {
        as: 'timeoutMs',
        node: s.duration({ doc: 'How long the command may run before it is stopped and the deploy fails.', example: '10m', default: '5m', min: '1s', max: '2h' }),
      },
    },
  }),
});

export type ReleaseSpec = NonNullable<Infer<typeof release>>;
