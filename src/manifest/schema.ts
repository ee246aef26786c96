/**
 * The berth.yaml schema: the single definition that the Manifest type, validation, the JSON Schema for
 * editors (schema/berth.schema.json), the reference (docs/manifest.md) and `berth init` all come from.
 * Change a key here, then run `node scripts/gen-manifest-docs.ts`.
 *
 * Processes: when `processes` is unset the app has one `web` process whose command is inferred at build
 * time (package.json "start", else server.js). When `processes` is set it lists every process, as in a
 * Procfile: listing only a `worker` makes an app without HTTP (no routing, no health gate, no domains).
 */
import { catalogue } from '../errors/catalogue.ts';
import { formatDuration } from '../lib/duration.ts';
import { APP_NAME_MAX_LENGTH, APP_NAME_PATTERN, normalizeAppName } from './app-name.ts';
import { snippet } from './show.ts';
import { s, type Infer, type Node, type Result, type ValidateContext } from './schema-dsl.ts';

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

const replicas = s.int({
  doc: 'How many instances of the process run side by side.',
  example: 2,
  default: 1,
  min: 1,
  max: 20,
});

const processAliases = { cmd: 'command', run: 'command', start: 'command', scale: 'replicas', instances: 'replicas', count: 'replicas' };

const web = s.shorthand({
  doc: 'The process that serves HTTP: it gets $PORT and the traffic, and the health gate probes it.',
  key: 'command',
  example: { command: 'node server.js', replicas: 2 },
  default: {},
  object: s.object({
    doc: 'The web process.',
    aliases: processAliases,
    fields: {
      command: s.string({
        doc: 'Shell command that starts the web server in the release directory; it must listen on $PORT.',
        type: 'command',
        example: 'node server.js',
        optional: true,
        unset: 'the package.json "start" script, else `node server.js`',
        notBlank: true,
      }),
      replicas,
    },
  }),
});

const otherProcess = s.shorthand({
  doc: 'Any other process, such as a queue worker or a scheduler: it runs beside `web` and receives no traffic.',
  key: 'command',
  example: 'node worker.js',
  required: 'a process other than `web` needs a command',
  object: s.object({
    doc: 'A process other than web.',
    aliases: processAliases,
    fields: {
      command: s.string({
        doc: 'Shell command that starts the process, run in the release directory.',
        type: 'command',
        example: 'node worker.js',
        required: 'only `web` can fall back to the package.json "start" script',
        notBlank: true,
      }),
      replicas,
    },
  }),
});

// Widened to web's resolved type (command possibly undefined), so every process has one type.
const anyProcess: Node<Infer<typeof web>> = otherProcess;

const processes = s.record({
  doc: 'The processes to run, by name: `web` serves HTTP, others (such as `worker: node worker.js`) run beside it; a string is short for `{ command: ... }`.',
  details:
    'When `processes` is unset the app runs one `web` process with the inferred command. When it is set it ' +
    'lists every process, like a Procfile: an app whose `processes` has no `web` serves no HTTP, so it gets ' +
    'no route, no health gate and no `domains`. `web:` with nothing after it means `web` with the defaults.',
  keys: {
    name: 'process name',
    placeholder: '<name>',
    pattern: /^[a-z][a-z0-9_-]{0,29}$/,
    hint: '1 to 30 lowercase letters, digits, `_` and `-`, starting with a letter',
    suggest: (key) => key.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 30),
  },
  known: { web },
  value: anyProcess,
  minEntries: 1,
  maxEntries: 20,
  default: { web: {} },
  example: { web: { command: 'node server.js', replicas: 2 }, worker: 'node worker.js' },
});

const health = s.object({
  doc: 'The health gate: a new release gets traffic only once its `web` instances answer HTTP probes.',
  details:
    'berth requests `path` from each new `web` instance every `interval`. An answer with status 2xx or 3xx ' +
    'within `timeout` is a success; after `healthy_after` successes in a row the instance is healthy. If the ' +
    'release is not healthy by `deadline`, the deploy fails and the previous release keeps serving.',
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
    'More than `max_restarts` restarts within `window` and the process is declared crash-looping and left stopped.',
  aliases: { retries: 'max_restarts', limit: 'max_restarts', delay: 'backoff', period: 'window' },
  fields: {
    max_restarts: {
      as: 'maxRestarts',
      node: s.int({ doc: 'Restarts allowed within `window` before the process is declared crash-looping.', example: 10, default: 5, min: 0, max: 100 }),
    },
    window: {
      as: 'windowMs',
      node: s.duration({ doc: 'The sliding time window that `max_restarts` counts in.', example: '5m', default: '60s', min: '1s', max: '24h' }),
    },
    backoff: {
      as: 'backoffMs',
      node: s.duration({ doc: 'Wait before the first restart; it doubles after each further crash.', example: '2s', default: '1s', min: '100ms', max: '10m' }),
    },
    max_backoff: {
      as: 'maxBackoffMs',
      node: s.duration({ doc: 'The longest wait between two restarts.', example: '1m', default: '30s', min: '100ms', max: '1h' }),
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

const env = s.record({
  doc: 'Environment variables (not secrets) that every process gets.',
  details:
    'Values are text. Numbers and true/false are accepted and kept exactly as written (`3.10` stays `3.10`). ' +
    'Keep secrets out of this file; berth stores them separately. PORT and BERTH_* are set by berth.',
  keys: {
    name: 'variable name',
    placeholder: '<NAME>',
    pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    hint: 'letters, digits and `_`, not starting with a digit',
    suggest: (key) => key.trim().replace(/[^A-Za-z0-9_]+/g, '_').replace(/^(?=\d)/, '_'),
    reserved: {
      names: ['PORT'],
      prefixes: ['BERTH_'],
      message: (key) => catalogue.ENV_NAME_RESERVED({ name: key }).message,
      fix: (key) => `pick another name, such as \`APP_${key}\`; berth sets PORT and BERTH_* itself`,
    },
  },
  value: s.string({
    doc: 'The value, as text.',
    type: 'value',
    example: 'production',
    scalars: true,
    missingFix: (path) => `write ${snippet(path, '')} for an empty value, or give it one, such as ${snippet(path, 'production')}`,
  }),
  default: {},
  example: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
});

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
    services: 'processes',
    procfile: 'processes',
    supervise: 'restart',
    restart_policy: 'restart',
  },
  fields: { name, build, processes, health, deploy, restart, domains, env },
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
  ],
});

/** berth.yaml resolved: every default applied, durations in milliseconds, deep-frozen. */
export type Manifest = Infer<typeof manifestSchema>;
export type ProcessSpec = Manifest['processes'][string];
export type HealthSpec = Manifest['health'];
export type DeploySpec = Manifest['deploy'];
export type RestartSpec = Manifest['restart'];

/** Validates parsed berth.yaml content (plain data) and resolves it; see parseManifest for text. */
export function validateManifest(value: unknown, options: { sourceText?: ValidateContext['sourceText'] } = {}): Result<Manifest> {
  return manifestSchema.validate(value, '', { root: manifestSchema, sourceText: options.sourceText });
}
