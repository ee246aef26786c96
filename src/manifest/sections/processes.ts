/**
 * `processes`: what runs. When `processes` is unset the app has one `web` process whose command is
 * inferred at build time (package.json "start", else server.js). When `processes` is set it lists every
 * process, as in a Procfile: listing only a `worker` makes an app without HTTP (no routing, no health
 * gate, no domains). With `static`, berth's static file server is the `web` process.
 */
import { s, type Infer, type Node } from '../schema-dsl.ts';
import { processHealth, type ProcessHealthSpec } from './process-health.ts';
import { restartOverride, type RestartOverride, type RestartSpec } from './restart.ts';

const replicas = s.int({
  doc: 'How many instances of the process run side by side.',
  example: 2,
  default: 1,
  min: 1,
  max: 20,
});

const PORT_DOC = 'The port the process listens on inside its container; berth sets PORT to it.';
const PORT_DETAILS = 'The process runtime ignores it: it picks a free port for each instance and sets PORT to that.';

const webPort = s.int({
  doc: PORT_DOC,
  details:
    `${PORT_DETAILS} With \`image\`, set it to the port the image listens on, such as \`80\` for nginx: berth cannot see ` +
    'which port an image exposes before it runs it, and keeps 3000 (where an image that reads PORT listens).',
  example: 8080,
  default: 3000,
  min: 1,
  max: 65535,
});

const processPort = s.int({
  doc: PORT_DOC,
  details: `${PORT_DETAILS} Give one to a process that other processes call on the app's private network, such as an internal \`api\`.`,
  example: 4000,
  optional: true,
  unset: 'none; the process gets no PORT',
  min: 1,
  max: 65535,
});

const resources = s.object({
  doc: 'Limits on the memory and CPU that one instance of the process may use; unset means no limit.',
  unset: 'no limits',
  details:
    'The limits are per instance: `replicas: 2` with `memory: 512mb` can use 1gb in all. A size is a number ' +
    'with b, kb, mb or gb (or k, m, g), in any case, counted in 1024s: `512mb`, `1.5gb`.',
  aliases: { mem: 'memory', ram: 'memory', memory_limit: 'memory', cpu: 'cpus', cores: 'cpus', cpu_limit: 'cpus' },
  fields: {
    memory: {
      as: 'memoryBytes',
      node: s.size({ doc: 'The most memory one instance may use.', example: '512mb', optional: true, unset: 'no limit', min: '6mb', max: '64gb' }),
    },
    cpus: s.number({ doc: 'How many CPU cores one instance may use: `0.5` is half a core.', example: 0.5, optional: true, unset: 'no limit', min: 0.01, max: 64 }),
  },
});

/** Process and service names: what `depends_on` lists. */
const DEPENDENCY_NAME = /^[a-z][a-z0-9_-]{0,29}$/;

const dependsOn = s.array({
  doc: 'Services and other processes that must be healthy before this process starts.',
  details:
    'A process with a `health` check is healthy once the check passes, `web` once it passes the top-level ' +
    '`health` gate, and a process or service without a check once it is running. Names must exist, and the ' +
    'processes must not wait for one another in a circle.',
  items: s.string({
    doc: 'The name of a service, or of another process, of this app.',
    type: 'name',
    example: 'redis',
    pattern: DEPENDENCY_NAME,
    patternHint: 'a process or service name: lowercase letters, digits, `_` and `-`, starting with a letter',
    suggest: (name) => name.trim().toLowerCase(),
  }),
  unique: true,
  maxItems: 40,
  default: [],
  example: ['redis'],
});

const readOnly = s.boolean({
  doc: 'Run the process with a read-only root filesystem: only /tmp (in memory, 64mb at most) is writable.',
  details:
    'A process that is broken into cannot change its own code or leave files behind. Files it writes go to ' +
    '/tmp (counted in its `resources.memory`), and a heartbeat file too: `/tmp/heartbeat`. The docker runtime ' +
    'only; the process runtime ignores it.',
  example: true,
  default: false,
});

const processAliases = {
  cmd: 'command', run: 'command', start: 'command',
  scale: 'replicas', instances: 'replicas', count: 'replicas',
  limits: 'resources', needs: 'depends_on', depends: 'depends_on', after: 'depends_on',
};

const web = s.shorthand({
  doc: 'The process that serves HTTP: it gets $PORT and the traffic, and the health gate probes it.',
  key: 'command',
  example: { command: 'node server.js', replicas: 2 },
  default: {},
  object: s.object({
    doc: 'The web process.',
    aliases: processAliases,
    misplaced: {
      health: {
        message: '`web` is checked by the top-level `health` block (HTTP probes), not by a process `health` check',
        fix: 'move the settings to a top-level `health:` block (`path`, `interval`, `timeout`, ...), or remove `processes.web.health`',
      },
    },
    fields: {
      command: s.string({
        doc: 'Shell command that starts the web server in the release directory; it must listen on $PORT.',
        details: 'With `image`, it replaces the image\'s own command and runs in the image\'s working directory.',
        type: 'command',
        example: 'node server.js',
        optional: true,
        unset: 'the image\'s own command with `image`, berth\'s static file server with `static`, else the package.json "start" script, else `node server.js`',
        notBlank: true,
      }),
      replicas,
      port: webPort,
      resources,
      restart: restartOverride,
      depends_on: { as: 'dependsOn', node: dependsOn },
      read_only: { as: 'readOnly', node: readOnly },
    },
    resolve: (w): ProcessDraft => ({ ...w, health: undefined }),
  }),
});

const otherProcess = s.shorthand({
  doc: 'Any other process, such as a queue worker or a scheduler: it runs beside `web` and receives no traffic.',
  key: 'command',
  example: 'node worker.js',
  required: 'a process other than `web` needs a command',
  object: s.object({
    doc: 'A process other than web.',
    aliases: { ...processAliases, healthcheck: 'health', health_check: 'health' },
    fields: {
      command: s.string({
        doc: 'Shell command that starts the process, run in the release directory.',
        details: 'With `image`, it runs in the image\'s working directory.',
        type: 'command',
        example: 'node worker.js',
        required: 'only `web` can fall back to a command of its own (the image\'s, or the package.json "start" script)',
        notBlank: true,
      }),
      replicas,
      port: processPort,
      resources,
      restart: restartOverride,
      depends_on: { as: 'dependsOn', node: dependsOn },
      health: processHealth,
      read_only: { as: 'readOnly', node: readOnly },
    },
  }),
});

/** A process, resolved: its restart policy is the top-level `restart` with its own `restart` keys on top. */
export interface ProcessSpec {
  /** Undefined only for `web`: the image's own command with `image`, the static server with `static`, else the inferred start command. */
  readonly command: string | undefined;
  readonly replicas: number;
  /** 3000 by default for `web`; undefined for a process that listens on no port. */
  readonly port: number | undefined;
  readonly resources: ResourcesSpec;
  readonly restart: RestartSpec;
  /** Service and process names. */
  readonly dependsOn: readonly string[];
  /** Always undefined for `web`, which the top-level `health` gate checks. */
  readonly health: ProcessHealthSpec | undefined;
  /** A read-only root filesystem with a writable /tmp (docker runtime). */
  readonly readOnly: boolean;
}

export type ResourcesSpec = Infer<typeof resources>;
/** A process as validated, before its `restart` keys are merged with the top-level ones. */
type ProcessDraft = { readonly [K in keyof ProcessSpec]: K extends 'restart' ? RestartOverride : ProcessSpec[K] };

// Both kinds resolve to one type: web's command may be unset, other processes' health may be set.
const webProcess: Node<ProcessDraft> = web;
const anyProcess: Node<ProcessDraft> = otherProcess;

export const processes = s.record({
  doc: 'The processes to run, by name: `web` serves HTTP, others (such as `worker: node worker.js`) run beside it; a string is short for `{ command: ... }`.',
  details:
    'When `processes` is unset the app runs one `web` process with the inferred command (or the static file ' +
    'server, with `static`). When it is set it lists every process, like a Procfile: an app whose `processes` ' +
    'has no `web` serves no HTTP, so it gets no route, no health gate and no `domains`. `web:` with nothing ' +
    'after it means `web` with the defaults.',
  keys: {
    name: 'process name',
    placeholder: '<name>',
    pattern: /^[a-z][a-z0-9_-]{0,29}$/,
    hint: '1 to 30 lowercase letters, digits, `_` and `-`, starting with a letter',
    suggest: (key) => key.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 30),
  },
  known: { web: webProcess },
  value: anyProcess,
  minEntries: 1,
  maxEntries: 20,
  default: { web: {} },
  example: {
    web: { command: 'node server.js', replicas: 2, resources: { memory: '512mb', cpus: 1 }, depends_on: ['redis'] },
    worker: { command: 'node worker.js', depends_on: ['redis'], health: { heartbeat: '/tmp/heartbeat' } },
  },
});
