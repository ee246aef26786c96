/**
 * The berth.yaml schema: the single definition that the Manifest type, validation, the JSON Schema for
 * editors (schema/berth.schema.json), the reference (docs/manifest.md) and `berth init` all come from.
 * Change a key here, then run `npm run gen:manifest`.
 *
 * Processes: when `processes` is unset the app has one `web` process whose command is inferred at build
 * time (package.json "start", else server.js). When `processes` is set it lists every process, as in a
 * Procfile: listing only a `worker` makes an app without HTTP (no routing, no health gate, no domains).
 * With `static`, berth's static file server is the `web` process.
 *
 * Services are accessories (a database, a cache): containers on the app's private network that
 * processes reach by name, with defaults that follow the image (`redis:7` listens on 6379 and is handed
 * to processes as REDIS_URL). Building the URL itself is the deployer's job.
 */
import { posix } from 'node:path';
import { catalogue } from '../errors/catalogue.ts';
import { formatDuration } from '../lib/duration.ts';
import { APP_NAME_MAX_LENGTH, APP_NAME_PATTERN, normalizeAppName } from './app-name.ts';
import { recordOf } from '../lib/record.ts';
import { isPlainObject, snippet } from './show.ts';
import { closest } from './suggest.ts';
import { s, type Infer, type Node, type ObjectOut, type Result, type ValidateContext } from './schema-dsl.ts';
import type { RuleProblem } from './dsl-object.ts';

const name = s.string({
  doc: 'App name; the app is served at <name>.<base domain>, so it must work as a hostname label.',
  type: 'app name',
  example: 'hello',
  optional: true,
  unset: 'the package.json "name" without its @scope/, else the folder name, lowercased with dashes',
  maxLength: APP_NAME_MAX_LENGTH,
  pattern: APP_NAME_PATTERN,
  patternHint: 'lowercase letters, digits and dashes, starting with a letter and not ending with a dash',
  suggest: normalizeAppName,
});

const build = s.string({
  doc: 'Shell command that builds the app, run in the release directory before it starts.',
  type: 'command',
  example: 'npm run build',
  optional: true,
  unset: 'the package.json "build" script, if there is one',
  notBlank: true,
});

// ------------------------------------------------------------------------------------ paths in the app

/** Relative to the app folder and inside it: not absolute, no `..` segment, `/` between folders. */
const APP_PATH = /^(?!\/)(?!\s*$)(?!(.*\/)?\.\.(\/|$))[^\\]+$/;
const APP_PATH_HINT = 'a path inside the app folder, relative to it: not starting with `/`, without `..`, with `/` between folders';

/** `./public/` -> `public`, `a//b/./c` -> `a/b/c`, `./` -> `.`. */
export function normalizeAppPath(text: string): string {
  return posix.normalize(text).replace(/\/+$/, '') || '.';
}

/** `/public` -> `public`, `dist\site` -> `dist/site`; nothing for a path that leaves the app. */
function suggestAppPath(text: string): string | undefined {
  const fixed = posix.normalize(text.trim().replace(/\\/g, '/').replace(/^\/+/, ''));
  return fixed.startsWith('..') ? undefined : normalizeAppPath(fixed);
}

const dockerfile = s.string({
  doc: 'Path of the Dockerfile in the app that the Docker runtime builds the app\'s image from.',
  details: 'Relative to the app folder. The process runtime does not build images and ignores it.',
  type: 'file path',
  example: 'docker/Dockerfile',
  optional: true,
  unset: '`Dockerfile` when the app has one, else berth generates one for Node apps',
  pattern: APP_PATH,
  patternHint: APP_PATH_HINT,
  suggest: suggestAppPath,
  normalize: normalizeAppPath,
});

const staticDir = s.string({
  doc: 'A folder of the app that berth\'s static file server serves as the `web` process, so no web `command` is needed.',
  details:
    'HTML is served so that browsers never keep a stale page after a deploy, and fingerprinted assets (a ' +
    'content hash in the file name, such as `app.3f9c2b1e.js`) as immutable. `static: .` serves the whole app ' +
    'folder. With `static` and no `processes`, the app has one `web` process, the static server. It cannot be ' +
    'combined with `processes.web.command`, and when `processes` is set it must list `web` (with no command). ' +
    'The top-level `health`, `domains` and `processes.web` settings such as `replicas` apply as usual.',
  type: 'folder',
  example: 'public',
  optional: true,
  unset: '`web` runs its command',
  pattern: APP_PATH,
  patternHint: APP_PATH_HINT,
  suggest: suggestAppPath,
  normalize: normalizeAppPath,
});

// ------------------------------------------------------------------------------------------- release

const release = s.shorthand({
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

// ----------------------------------------------------------------------------------------- processes

const replicas = s.int({
  doc: 'How many instances of the process run side by side.',
  example: 2,
  default: 1,
  min: 1,
  max: 20,
});

const PORT_DOC = 'The port the process listens on inside its container; berth sets PORT to it.';
const PORT_DETAILS = 'The process runtime ignores it: it picks a free port for each instance and sets PORT to that.';

const webPort = s.int({ doc: PORT_DOC, details: PORT_DETAILS, example: 8080, default: 3000, min: 1, max: 65535 });

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

/** Unset keys of a process's `restart` take the top-level value. */
const topLevel = (key: string) => `the top-level \`restart.${key}\``;

const restartOverride = s.object({
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

export interface ProcessHealthSpec {
  /** The file the process touches, and how old it may get. */
  readonly heartbeat: { readonly file: string; readonly maxAgeMs: number } | undefined;
  readonly command: string | undefined;
  readonly intervalMs: number;
}

const processHealth = s.object({
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
        type: 'command',
        example: 'node server.js',
        optional: true,
        unset: 'berth\'s static file server with `static`, else the package.json "start" script, else `node server.js`',
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
        type: 'command',
        example: 'node worker.js',
        required: 'only `web` can fall back to the package.json "start" script',
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
  /** Undefined only for `web`: the inferred start command, or the static server with `static`. */
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
type RestartOverride = Infer<typeof restartOverride>;
/** A process as validated, before its `restart` keys are merged with the top-level ones. */
type ProcessDraft = { readonly [K in keyof ProcessSpec]: K extends 'restart' ? RestartOverride : ProcessSpec[K] };

// Both kinds resolve to one type: web's command may be unset, other processes' health may be set.
const webProcess: Node<ProcessDraft> = web;
const anyProcess: Node<ProcessDraft> = otherProcess;

const processes = s.record({
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

const health = s.object({
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

const deploy = s.object({
  doc: 'How a new release replaces the running one.',
  aliases: { type: 'strategy', mode: 'strategy', drain: 'drain_timeout', grace_period: 'stop_timeout', keep: 'keep_releases', releases: 'keep_releases' },
  fields: {
    strategy: s.enum({
      doc: '`blue-green` starts the new release beside the old one and switches traffic once it is healthy.',
      details: '`rolling` and `canary` are planned.',
      values: ['blue-green'],
      planned: ['rolling', 'canary'],
      example: 'blue-green',
      default: 'blue-green',
    }),
    drain_timeout: {
      as: 'drainTimeoutMs',
      node: s.duration({ doc: 'How long the old release may finish in-flight requests and WebSockets after the switch.', example: '2m', default: '30s', min: '0s', max: '1h' }),
    },
    stop_timeout: {
      as: 'stopTimeoutMs',
      node: s.duration({ doc: 'How long a stopping process has between SIGTERM and SIGKILL.', example: '30s', default: '10s', min: '1s', max: '10m' }),
    },
    standby: {
      as: 'standbyMs',
      node: s.duration({ doc: 'How long the previous release keeps running without traffic, so a rollback is instant.', example: '15m', default: '5m', min: '0s', max: '24h' }),
    },
    keep_releases: {
      as: 'keepReleases',
      node: s.int({ doc: 'How many releases stay on disk to roll back to.', example: 10, default: 5, min: 1, max: 50 }),
    },
  },
});

const restart = s.object({
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

/** Lowercase DNS name of two or more labels, optionally `*.`-prefixed; the last label starts with a letter, which rules out IP addresses. */
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const domains = s.array({
  doc: 'Extra hostnames routed to `web`; the app is always served at <name>.<base domain> as well.',
  items: s.string({
    doc: 'A hostname.',
    type: 'hostname',
    example: 'example.com',
    maxLength: 253,
    pattern: HOSTNAME,
    patternHint: 'a lowercase DNS name such as `example.com` or `*.example.com`',
    // People paste URLs: keep just the host.
    suggest: (text) => text.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[/:?#].*$/, '').replace(/\.$/, ''),
  }),
  unique: true,
  maxItems: 100,
  default: [],
  example: ['example.com', 'www.example.com'],
});

// ----------------------------------------------------------------------------------------------- env

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_HINT = 'letters, digits and `_`, not starting with a digit';
const suggestEnvName = (key: string) => key.trim().replace(/[^A-Za-z0-9_]+/g, '_').replace(/^(?=\d)/, '_');

const envValue = s.string({
  doc: 'The value, as text.',
  type: 'value',
  example: 'production',
  scalars: true,
  missingFix: (path) => `write ${snippet(path, '')} for an empty value, or give it one, such as ${snippet(path, 'production')}`,
});

const env = s.record({
  doc: 'Environment variables (not secrets) that every process gets.',
  details:
    'Values are text. Numbers and true/false are accepted and kept exactly as written (`3.10` stays `3.10`). ' +
    'Keep secrets out of this file; berth stores them separately. PORT and BERTH_* are set by berth.',
  keys: {
    name: 'variable name',
    placeholder: '<NAME>',
    pattern: ENV_NAME,
    hint: ENV_NAME_HINT,
    suggest: suggestEnvName,
    reserved: {
      names: ['PORT'],
      prefixes: ['BERTH_'],
      message: (key) => catalogue.ENV_NAME_RESERVED({ name: key }).message,
      fix: (key) => `pick another name, such as \`APP_${key}\`; berth sets PORT and BERTH_* itself`,
    },
  },
  value: envValue,
  default: {},
  example: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
});

// ------------------------------------------------------------------------------------------ services

/** What berth assumes of an image it knows by name, whatever its registry, path and tag. */
export const IMAGE_DEFAULTS: Readonly<Record<string, { readonly port: number; readonly urlEnv: string }>> = Object.freeze({
  redis: { port: 6379, urlEnv: 'REDIS_URL' },
  postgres: { port: 5432, urlEnv: 'DATABASE_URL' },
  postgis: { port: 5432, urlEnv: 'DATABASE_URL' },
  mysql: { port: 3306, urlEnv: 'DATABASE_URL' },
  mariadb: { port: 3306, urlEnv: 'DATABASE_URL' },
  mongo: { port: 27017, urlEnv: 'MONGO_URL' },
  memcached: { port: 11211, urlEnv: 'MEMCACHED_URL' },
});

/** The image's own name: `docker.io/library/mariadb:11` -> `mariadb`, `postgis/postgis:16-3.4@sha256:...` -> `postgis`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0];
  const last = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return last.split(':')[0].toLowerCase();
}

/** The defaults for an image berth knows, such as `redis:7-alpine`; undefined for any other image. */
export function imageDefaults(image: string): { readonly port: number; readonly urlEnv: string } | undefined {
  const name = imageName(image);
  return Object.hasOwn(IMAGE_DEFAULTS, name) ? IMAGE_DEFAULTS[name] : undefined;
}

const byImage = 'by image: redis 6379; postgres and postgis 5432; mysql and mariadb 3306; mongo 27017; memcached 11211; otherwise none';

/** `[registry[:port]/]path[:tag][@digest]`, as Docker reads image references; the path is lowercase. */
const IMAGE = /^([A-Za-z0-9.-]+(:\d+)?\/)?[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:\w[\w.-]{0,127})?(@[a-z0-9]+:[A-Fa-f0-9]{32,})?$/;

const serviceHealth = s.object({
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
      node: s.duration({ doc: 'Time after the service starts during which failed checks do not count.', example: '30s', default: '0s', min: '0s', max: '1h' }),
    },
  },
});

const VOLUME_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const volumes = s.record({
  doc: 'Named volumes mounted into the service\'s container: the data in them outlives restarts and deploys.',
  keys: {
    name: 'volume name',
    placeholder: '<volume>',
    pattern: VOLUME_NAME,
    hint: '1 to 63 lowercase letters, digits, `_` and `-`, starting with a letter',
    suggest: (key) => key.trim().toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63),
  },
  value: s.string({
    doc: 'Where the volume is mounted in the container, as an absolute path.',
    type: 'mount path',
    example: '/data',
    pattern: /^\/\S+$/,
    patternHint: 'an absolute path in the container, such as `/data`, without spaces',
    suggest: (path) => `/${path.trim().replace(/^\.?\/*/, '')}`,
  }),
  default: {},
  example: { data: '/data' },
});

const serviceEnv = s.record({
  doc: 'Environment variables of the service\'s container, such as the options an image reads.',
  details:
    'The same rules as the top-level `env`, except that PORT and BERTH_* are allowed, since a service is not ' +
    'a berth process. Services do not get the top-level `env`.',
  keys: { name: 'variable name', placeholder: '<NAME>', pattern: ENV_NAME, hint: ENV_NAME_HINT, suggest: suggestEnvName },
  value: envValue,
  default: {},
  example: { REDIS_ARGS: '--maxmemory 256mb' },
});

export interface ServiceHealthSpec {
  readonly command: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

const service = s.shorthand({
  doc: 'A service: a container from `image` that runs as long as the app, reachable only from the app\'s processes.',
  key: 'image',
  example: { image: 'redis:7-alpine', volumes: { data: '/data' } },
  required: 'a service needs an image',
  missingFix: (path) => `write ${snippet(path, 'redis:7-alpine')}, or a mapping with \`image:\``,
  object: s.object({
    doc: 'A service.',
    aliases: { cmd: 'command', ports: 'port', environment: 'env', healthcheck: 'health', health_check: 'health', volume: 'volumes', url_var: 'url_env', env_var: 'url_env' },
    fields: {
      image: s.string({
        doc: 'The image the service runs, as `docker pull` takes it.',
        type: 'image',
        example: 'redis:7-alpine',
        required: 'berth runs the service from it',
        maxLength: 255,
        pattern: IMAGE,
        patternHint: 'an image such as `redis:7`, `postgres:16-alpine` or `ghcr.io/acme/search:1.2`, with a lowercase name',
        suggest: (image) => image.trim().replace(/^[^:@]+/, (name) => name.toLowerCase()),
      }),
      command: s.string({
        doc: 'Shell command the container runs instead of the image\'s own.',
        type: 'command',
        example: 'redis-server --appendonly yes',
        optional: true,
        unset: 'the image\'s own command',
        notBlank: true,
      }),
      port: s.int({
        doc: 'The port processes connect to.',
        example: 6380,
        optional: true,
        unset: byImage,
        min: 1,
        max: 65535,
      }),
      env: serviceEnv,
      volumes,
      health: serviceHealth,
      url_env: {
        as: 'urlEnv',
        node: s.string({
          doc: 'The environment variable in which every process gets the URL of this service.',
          details: 'Each variable comes from one place: two services cannot use the same one, and the top-level `env` cannot set it.',
          type: 'variable name',
          example: 'CACHE_URL',
          optional: true,
          unset: 'by image: REDIS_URL for redis; DATABASE_URL for postgres, postgis, mysql and mariadb; MONGO_URL for mongo; MEMCACHED_URL for memcached; otherwise none',
          pattern: /^(?!PORT$)(?!BERTH_)[A-Za-z_][A-Za-z0-9_]*$/,
          patternHint: `${ENV_NAME_HINT}; not PORT or BERTH_*, which berth sets`,
          suggest: (name) => suggestEnvName(name).toUpperCase(),
        }),
      },
      url: s.string({
        doc: 'The URL processes get in `url_env`, instead of the one berth builds from the service\'s name and port.',
        type: 'URL',
        example: 'redis://redis:6379/1',
        optional: true,
        unset: 'built by berth from the image, the service name and `port`',
        pattern: /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/,
        patternHint: 'a URL with a scheme, such as `redis://redis:6379/1`, without spaces',
      }),
    },
    // Defaults that follow the image: `redis:7` listens on 6379 and is handed over as REDIS_URL.
    resolve: (svc): ServiceSpec => ({
      ...svc,
      port: svc.port ?? imageDefaults(svc.image)?.port,
      urlEnv: svc.urlEnv ?? imageDefaults(svc.image)?.urlEnv,
    }),
    rules: [
      {
        doc: 'Two volumes cannot be mounted at the same path.',
        check: (svc) => {
          const seen = new Map<string, string>();
          const problems: RuleProblem[] = [];
          for (const [name, path] of Object.entries(svc.volumes)) {
            const first = seen.get(path);
            if (first === undefined) seen.set(path, name);
            else problems.push({ key: ['volumes', name], message: `is mounted at ${path}, like \`${first}\``, fix: 'mount it at another path, or remove it' });
          }
          return problems;
        },
      },
    ],
  }),
});

/** A service, resolved: `port` and `urlEnv` default from the image name (see IMAGE_DEFAULTS). */
export interface ServiceSpec {
  readonly image: string;
  readonly command: string | undefined;
  readonly port: number | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly volumes: Readonly<Record<string, string>>;
  readonly health: ServiceHealthSpec | undefined;
  readonly urlEnv: string | undefined;
  readonly url: string | undefined;
}

const services = s.record({
  doc: 'Services such as a database or a cache, by name: long-lived containers on the app\'s private network, never routed or published.',
  details:
    'Docker runtime only. Processes reach a service by its name and `port`, and get its URL in `url_env`. ' +
    'A string is short for `{ image: ... }`. A service and a process cannot share a name.',
  keys: {
    name: 'service name',
    placeholder: '<name>',
    pattern: /^[a-z][a-z0-9-]{0,29}$/,
    hint: '1 to 30 lowercase letters, digits and `-`, starting with a letter',
    suggest: (key) => key.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 30),
  },
  value: service,
  maxEntries: 20,
  default: {},
  example: {
    redis: { image: 'redis:7-alpine', command: 'redis-server --appendonly yes', volumes: { data: '/data' }, health: { command: 'redis-cli ping' } },
    db: 'postgres:16',
  },
});

// ------------------------------------------------------------------------------------------ manifest

const manifestFields = {
  name,
  build,
  dockerfile,
  static: staticDir,
  release,
  processes,
  services,
  health,
  deploy,
  restart,
  domains,
  env,
};

type ManifestDraft = ObjectOut<typeof manifestFields>;

/** berth.yaml resolved: every default applied, durations in milliseconds, sizes in bytes, deep-frozen. */
export type Manifest = { readonly [K in keyof ManifestDraft]: K extends 'processes' ? Readonly<Record<string, ProcessSpec>> : ManifestDraft[K] };

export const manifestSchema = s.object({
  doc: 'berth.yaml tells berth how to build, run and route an app; every key is optional.',
  aliases: {
    app: 'name',
    environment: 'env',
    vars: 'env',
    variables: 'env',
    healthcheck: 'health',
    health_check: 'health',
    hosts: 'domains',
    hostnames: 'domains',
    procfile: 'processes',
    accessories: 'services',
    addons: 'services',
    supervise: 'restart',
    restart_policy: 'restart',
    release_command: 'release',
    public: 'static',
    static_dir: 'static',
  },
  fields: manifestFields,
  // `static` replaces web's command, which the example sets: its own section shows it.
  example: Object.fromEntries(Object.entries(manifestFields).filter(([key]) => key !== 'static').map(([key, node]) => [key, node.example])),
  resolve: (m): Manifest => ({
    ...m,
    processes: recordOf(Object.entries(m.processes).map(([process, spec]) => [process, { ...spec, restart: mergeRestart(m.restart, spec.restart) }])),
  }),
  rules: [
    {
      doc: '`domains` needs a `web` process to route to.',
      check: (m) =>
        m.domains.length === 0 || m.processes.web ? undefined : {
          key: 'domains',
          message: 'lists hostnames, but `processes` has no `web` process to route them to',
          fix: 'add `web` under `processes`, or remove `domains`',
        },
    },
    {
      doc: '`static` is the `web` process: `processes`, when set, lists `web` without a `command`.',
      check: (m) =>
        m.static === undefined ? undefined
        : !m.processes.web ? {
          key: 'static',
          message: 'is served as the `web` process, but `processes` lists no `web`',
          fix: 'add `web:` with nothing after it under `processes`, or remove `static`',
        }
        : m.processes.web.command !== undefined ? {
          key: 'static',
          message: 'serves the folder as the `web` process, but `processes.web.command` is set too, so web would be two things',
          fix: 'remove `static` to run the command, or remove `processes.web.command` to serve the folder',
        }
        : undefined,
    },
    {
      doc: 'A service and a process cannot have the same name.',
      check: (m) =>
        Object.keys(m.services).filter((name) => Object.hasOwn(m.processes, name)).map((name) => ({
          key: ['services', name],
          message: `\`${name}\` is the name of both a service (\`services.${name}\`) and a process (\`processes.${name}\`), and \`depends_on\` and the network tell them apart by name`,
          fix: `rename the service or the process, such as \`${name}-svc\``,
        })),
    },
    {
      doc: 'Each `depends_on` entry names a service or another process, and no processes wait for one another in a circle.',
      check: (m) => dependencyProblems(m),
    },
    {
      doc: 'A process\'s `restart.backoff` must not be longer than its `restart.max_backoff`, after merging with the top-level `restart`.',
      check: (m, written) => restartProblems(m, written),
    },
    {
      doc: 'Each service\'s URL variable is set once: no two services, and not `env`, set the same variable.',
      check: (m, written) => urlEnvProblems(m, written),
    },
  ],
});

export type RestartSpec = Manifest['restart'];
export type ReleaseSpec = NonNullable<Manifest['release']>;

function mergeRestart(top: RestartSpec, own: RestartOverride): RestartSpec {
  return {
    maxRestarts: own.maxRestarts ?? top.maxRestarts,
    windowMs: own.windowMs ?? top.windowMs,
    backoffMs: own.backoffMs ?? top.backoffMs,
    maxBackoffMs: own.maxBackoffMs ?? top.maxBackoffMs,
  };
}

/** The value of `key` in a mapping as written, if it is a mapping. */
function writtenAt(written: unknown, ...keys: string[]): unknown {
  let at = written;
  for (const key of keys) at = isPlainObject(at) ? at[key] : undefined;
  return at;
}

function dependencyProblems(m: Manifest): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const processNames = Object.keys(m.processes);
  const serviceNames = Object.keys(m.services);
  const all = [...processNames, ...serviceNames];
  const listed = (names: string[]) => (names.length === 0 ? 'none' : names.map((n) => `\`${n}\``).join(', '));
  for (const [process, spec] of Object.entries(m.processes)) {
    spec.dependsOn.forEach((dependency, index) => {
      const key = ['processes', process, 'depends_on', index];
      if (dependency === process) {
        problems.push({ key, message: `is \`${process}\` itself, and a process cannot wait for itself`, fix: 'remove this entry' });
      } else if (!all.includes(dependency)) {
        const meant = closest(dependency, all.filter((n) => n !== process));
        problems.push(
          meant !== undefined
            ? { key, message: `\`${dependency}\` is not a process or service of this app; did you mean \`${meant}\`?`, fix: `write \`- ${meant}\`` }
            : {
              key,
              message: `\`${dependency}\` is not a process or service of this app (processes: ${listed(processNames)}; services: ${listed(serviceNames)})`,
              fix: `add a service or process named \`${dependency}\`, or remove this entry`,
            },
        );
      }
    });
  }
  for (const cycle of dependencyCycles(m.processes)) {
    const [from, to] = cycle;
    problems.push({
      key: ['processes', from, 'depends_on', m.processes[from].dependsOn.indexOf(to)],
      message: `makes a cycle: ${cycle.join(' -> ')}, so none of these processes could start first`,
      fix: `remove one link of the cycle, such as \`${to}\` from \`processes.${from}.depends_on\``,
    });
  }
  return problems;
}

/**
 * Every circle of processes waiting for one another, each once, as names from the process that comes
 * first in the file back to itself: `['web', 'api', 'web']`. Self references are left to the caller.
 */
export function dependencyCycles(processes: Readonly<Record<string, { readonly dependsOn: readonly string[] }>>): string[][] {
  const order = Object.keys(processes);
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    if (done.has(name)) return;
    const at = stack.indexOf(name);
    if (at !== -1) {
      const loop = stack.slice(at);
      // Start at the process written first, so one circle is reported once however it is reached.
      const start = loop.reduce((best, n) => (order.indexOf(n) < order.indexOf(best) ? n : best));
      const rotated = [...loop.slice(loop.indexOf(start)), ...loop.slice(0, loop.indexOf(start))];
      cycles.set(rotated.join(' '), [...rotated, start]);
      return;
    }
    for (const next of processes[name].dependsOn) {
      if (next !== name && Object.hasOwn(processes, next)) visit(next, [...stack, name]);
    }
    if (stack.length === 0 || !stack.includes(name)) done.add(name);
  };
  for (const name of order) visit(name, []);
  return [...cycles.values()];
}

function restartProblems(m: Manifest, written: Readonly<Record<string, unknown>>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const [process, spec] of Object.entries(m.processes)) {
    const { backoffMs, maxBackoffMs } = spec.restart;
    if (backoffMs <= maxBackoffMs) continue;
    const own = writtenAt(written, 'processes', process, 'restart');
    const ownBackoff = writtenAt(own, 'backoff') != null;
    const where = (key: string) => (writtenAt(own, key) != null ? '' : ', from the top-level `restart`');
    problems.push({
      key: ['processes', process, 'restart', ownBackoff ? 'backoff' : 'max_backoff'],
      message: ownBackoff
        ? `is ${formatDuration(backoffMs)}, longer than \`max_backoff\` (${formatDuration(maxBackoffMs)}${where('max_backoff')})`
        : `is ${formatDuration(maxBackoffMs)}, shorter than \`backoff\` (${formatDuration(backoffMs)}${where('backoff')})`,
      fix: ownBackoff
        ? `write \`backoff: ${formatDuration(maxBackoffMs)}\` or less, or raise \`max_backoff\``
        : `write \`max_backoff: ${formatDuration(backoffMs)}\` or more, or lower \`backoff\``,
    });
  }
  return problems;
}

function urlEnvProblems(m: Manifest, written: Readonly<Record<string, unknown>>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const firstWith = new Map<string, string>();
  for (const [name, spec] of Object.entries(m.services)) {
    const explicit = writtenAt(written, 'services', name, 'url_env') != null;
    const key = ['services', name, 'url_env'];
    const variable = spec.urlEnv;
    if (variable === undefined) {
      if (spec.url !== undefined) {
        problems.push({
          key: ['services', name, 'url'],
          message: `is set, but no variable carries it: berth knows no URL variable for the image \`${imageName(spec.image)}\``,
          fix: `add \`url_env: ${suggestEnvName(name).toUpperCase()}_URL\``,
        });
      }
      continue;
    }
    const is = explicit ? `is ${variable}` : `is ${variable} (the default for a \`${imageName(spec.image)}\` image)`;
    const own = `${suggestEnvName(name).toUpperCase()}_URL`;
    const other = own === variable ? `${suggestEnvName(name).toUpperCase()}_SERVICE_URL` : own;
    const first = firstWith.get(variable);
    if (first !== undefined) {
      problems.push({ key, message: `${is}, which \`services.${first}\` sets too`, fix: `give one of them another \`url_env\`, such as \`url_env: ${other}\`` });
    } else if (Object.hasOwn(m.env, variable)) {
      problems.push({ key, message: `${is}, which \`env\` sets too, so processes would get two values`, fix: `remove ${variable} from \`env\`, or write \`url_env: ${other}\`` });
    }
    firstWith.set(variable, name);
  }
  return problems;
}

/** Validates parsed berth.yaml content (plain data) and resolves it; see parseManifest for text. */
export function validateManifest(value: unknown, options: { sourceText?: ValidateContext['sourceText'] } = {}): Result<Manifest> {
  return manifestSchema.validate(value, '', { root: manifestSchema, sourceText: options.sourceText });
}
