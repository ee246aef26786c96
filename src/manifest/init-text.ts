/** The commented berth.yaml that `berth init` writes: the whole format, learnable by reading it. */
import { fail } from '../errors/catalogue.ts';
import type { AnyNode } from './schema-dsl.ts';
import { isValidAppName } from './app-name.ts';
import { EDITOR_SCHEMA_PATH } from './json-schema.ts';
import { renderAnnotatedYaml } from './render-yaml.ts';
import { manifestSchema } from './schema.ts';
import { isPlainObject } from './show.ts';

export interface InitInput {
  name: string;
  hasPackageJson: boolean;
  /** The start command berth would infer (package.json "start"), shown in the commented `web` entry. */
  startCommand?: string;
}

/**
 * Only `name` is live, pinning the app name so renaming the folder does not make a new app. Every other
 * section is commented out and shows its defaults (or an example where the default is empty), so the
 * file parses to exactly the defaults until the user uncomments something.
 */
export function initManifestText(input: InitInput): string {
  if (!isValidAppName(input.name)) throw fail('APP_NAME_INVALID', { name: input.name });
  const shape = manifestSchema.shape;
  if (shape.kind !== 'object') throw new Error('the manifest schema is an object');
  const value: Record<string, unknown> = Object.fromEntries(shape.fields.map((f) => [f.key, shown(f.node)]));
  value.name = input.name;
  value.build = input.hasPackageJson ? 'npm run build' : './build.sh';
  // `npm start` is what inference amounts to with a package.json: its "start" script, else node server.js.
  const webCommand = input.startCommand ?? (input.hasPackageJson ? 'npm start' : 'node server.js');
  // Short examples of the Docker-era keys; `depends_on` names the service shown below it.
  value.release = { command: 'node migrate.js', timeout: '5m' };
  value.processes = { web: { command: webCommand, replicas: 1, port: 3000, resources: { memory: '512mb', cpus: 1 }, depends_on: ['redis'] } };
  value.services = { redis: { image: 'redis:7', volumes: { data: '/data' } } };

  const header = [
    `# yaml-language-server: $schema=${EDITOR_SCHEMA_PATH}`,
    '#',
    `# berth.yaml for ${input.name}: how berth builds, runs and routes this app. Every key is optional.`,
    '# Commented-out lines show the defaults (or an example where there is none): delete the leading',
    '# "# " of a section\'s lines to change it. A duration is a number with ms, s, m, h or d: 500ms, 5s, 2h.',
    '# A size is a number with b, kb, mb or gb, counted in 1024s: 512mb.',
  ];
  const body = renderAnnotatedYaml({
    root: manifestSchema,
    value,
    commented: (key) => key !== 'name',
    notes: {
      build: [input.hasPackageJson ? 'Unset, berth runs the package.json "build" script if there is one.' : 'Unset, nothing is built.'],
      dockerfile: ['Unset, the Docker runtime uses `Dockerfile` if there is one, else berth writes one for Node apps.'],
      static: ['It replaces web\'s `command`: set one or the other.'],
      image: ['It replaces the build: set it and remove `build`, `dockerfile` and `static`.'],
      update: ['Only with `image`; a service follows its own image with its own `update:`.'],
      processes: [
        input.startCommand
          ? `Without a \`command\`, web runs \`${input.startCommand}\` (package.json "start").`
          : input.hasPackageJson
            ? 'Without a `command`, web runs the package.json "start" script, else `node server.js`.'
            : 'Without a `command`, web runs `node server.js`.',
        '`depends_on: [redis]` waits for the `redis` service below; uncomment both or neither.',
      ],
      services: ['Processes get the address of `redis` in REDIS_URL.'],
    },
  });
  return `${header.join('\n')}\n\n${body}`;
}

/** The value a section shows: its defaults, or its example where the default says nothing (`[]`, `{}`, unset). */
function shown(node: AnyNode): unknown {
  const empty = node.default === undefined || (Array.isArray(node.default) && node.default.length === 0) || (isPlainObject(node.default) && Object.keys(node.default).length === 0);
  return empty ? node.example : node.default;
}
