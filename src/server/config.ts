import { availableParallelism, homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fail, type Issue } from '../errors/catalogue.ts';
import { acmeConfig, httpsListener, LETS_ENCRYPT } from './https-config.ts';
import { parseDuration } from '../lib/duration.ts';
import { parseHostPort } from '../lib/host-port.ts';
import { parseSize } from '../manifest/size.ts';

/** Everything `berth server` needs to know, resolved and checked once at start-up. */
export interface ServerConfig {
  dataDir: string;
  api: { host: string; port: number };
  http: { host: string; port: number };
  /** Apps are served at <app>.<baseDomain>. */
  baseDomain: string;
  /** Largest accepted upload (compressed), bytes. */
  maxUploadBytes: number;
  /** Largest accepted upload once unpacked, bytes: twice maxUploadBytes, at least 256 MiB. */
  maxUnpackedBytes: number;
  /** Most files and folders in one upload. */
  maxUploadEntries: number;
  /** A build that runs longer is stopped and the deploy fails. */
  buildTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** auto: docker when an engine answers, else host processes. */
  runtime: 'auto' | 'docker' | 'process';
  /** The Docker Engine's socket. */
  dockerSocket: string;
  /** Set when DOCKER_HOST names an engine berth cannot reach (not a Unix socket): said by `berth doctor`. */
  dockerHostIgnored?: string;
  /** Base image of the Dockerfile berth writes for Node apps without one. */
  nodeImage: string;
  /** Caps for image builds, so running apps keep their share of the machine. */
  build: { memoryBytes: number; cpus: number; concurrency: number };
  /** The proxy's TLS listener; null: HTTPS off (no certificates requested or served). */
  https: { host: string; port: number } | null;
  acme: AcmeConfig;
  /** The proxy's access log under DATA/logs/access: files rotated at `maxFileBytes`, kept `keepDays`; null: off (`--access-log-keep 0`). */
  accessLog: { maxFileBytes: number; keepDays: number } | null;
  /** A listener serving only GET /metrics without a token (for a local Prometheus); null: none (the API's /v1/metrics always is). */
  metrics: { host: string; port: number } | null;
  /** App log lines berth keeps (process stores, docker archive) older than this are deleted, hourly. */
  logRetentionMs: number;
}

/** Where certificates come from (src/certs/): the ACME CA, and how its checks reach this server. */
export interface AcmeConfig {
  directoryUrl: string;
  /** The account's contact address for the CA (expiry warnings), or none. */
  email: string | null;
  /** PEM of an extra CA trusted for the ACME server (pebble's, a private CA), read from --acme-ca. */
  ca: string | null;
  /** A DNS server the pre-flight asks instead of the system's resolver. */
  resolver: { host: string; port: number } | null;
  /** The port the CA validates HTTP-01 on; null: the HTTP listener's own port. */
  challengePort: number | null;
}

export interface ServerFlags {
  data?: string;
  api?: string;
  http?: string;
  baseDomain?: string;
  maxUpload?: string;
  logLevel?: string;
  runtime?: string;
  nodeImage?: string;
  buildMemory?: string;
  buildCpus?: string;
  https?: string;
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeCa?: string;
  acmeResolver?: string;
  acmeChallengePort?: string;
  accessLogMaxSize?: string;
  accessLogKeep?: string;
  metrics?: string;
  logRetention?: string;
}

export const DEFAULT_API = '127.0.0.1:7171';
export const DEFAULT_HTTP = '0.0.0.0:8080';
/** Unprivileged, so berth runs as any user; servers use 443 (README: HTTPS). */
export const DEFAULT_HTTPS = '0.0.0.0:8443';

/**
 * The data directory when neither --data nor BERTH_DATA says: /var/lib/berth for root, else
 * $XDG_DATA_HOME/berth or ~/.local/share/berth. Root's berth runs each app as a user of its own (the
 * process runtime), and those users must be able to pass through every directory above their builds:
 * /root is closed to them, /var/lib is not.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.BERTH_DATA) return resolve(env.BERTH_DATA);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'berth');
  return uid === 0 ? ROOT_DATA_DIR : join(homedir(), '.local', 'share', 'berth');
}

export const ROOT_DATA_DIR = '/var/lib/berth';

/** Flags win over environment variables, which win over defaults. Throws CONFIG_INVALID naming each bad setting. */
export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const issues: Issue[] = [];
  /**
   * One setting: its text (flag, else environment variable, else default), and `bad()` to report it
   * under the name it came from (`--api`, or `BERTH_API` when the environment set it), with an example
   * written the same way.
   */
  const setting = (key: keyof ServerFlags, flag: string, envName: string, fallback: string) => {
    const fromEnv = flags[key] === undefined && env[envName] !== undefined;
    const text = flags[key] ?? env[envName] ?? fallback;
    const path = fromEnv ? envName : flag;
    return {
      text,
      bad: (message: string, example: string, note = '') =>
        issues.push({ path, message: `"${text}" ${message}`, fix: `for example ${fromEnv ? `${envName}=${example}` : `${flag} ${example}`}${note}` }),
    };
  };
  const address = (key: 'api' | 'http', envName: string, fallback: string) => {
    const { text, bad } = setting(key, `--${key}`, envName, fallback);
    const parsed = parseHostPort(text);
    if (!parsed) bad('is not HOST:PORT', fallback);
    return parsed ?? { host: '127.0.0.1', port: 0 };
  };
  const api = address('api', 'BERTH_API', DEFAULT_API);
  const http = address('http', 'BERTH_HTTP', DEFAULT_HTTP);
  const domain = setting('baseDomain', '--base-domain', 'BERTH_BASE_DOMAIN', 'localhost');
  const baseDomain = domain.text.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(baseDomain)) domain.bad('is not a domain name', 'apps.example.com');
  const maxUpload = setting('maxUpload', '--max-upload', 'BERTH_MAX_UPLOAD', '200mb');
  const maxUploadBytes = parseSize(maxUpload.text);
  if (maxUploadBytes === undefined || maxUploadBytes < 1024) maxUpload.bad('is not a size of at least 1kb', '200mb');
  const level = setting('logLevel', '--log-level', 'BERTH_LOG_LEVEL', 'info');
  const logLevel = level.text as ServerConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) level.bad('is not a log level', 'info', ' (debug, info, warn or error)');
  const chosen = setting('runtime', '--runtime', 'BERTH_RUNTIME', 'auto');
  const runtime = chosen.text as ServerConfig['runtime'];
  if (!['auto', 'docker', 'process'].includes(runtime)) chosen.bad('is not a runtime', 'auto', ' (docker when an engine answers), docker or process');
  const memory = setting('buildMemory', '--build-memory', 'BERTH_BUILD_MEMORY', `${Math.max(512, Math.min(2048, Math.floor(totalmem() / 1024 ** 2 / 2)))}mb`);
  const buildMemory = parseSize(memory.text);
  if (buildMemory === undefined || buildMemory < 64 * 1024 ** 2) memory.bad('is not a size of at least 64mb', '1gb');
  const cpus = setting('buildCpus', '--build-cpus', 'BERTH_BUILD_CPUS', String(Math.max(1, availableParallelism() - 1)));
  const buildCpus = Number(cpus.text);
  if (!(buildCpus >= 0.1 && buildCpus <= 256)) cpus.bad('is not a number of CPUs', '1', ' (a build never takes more)');
  const https = httpsListener(setting('https', '--https', 'BERTH_HTTPS', DEFAULT_HTTPS));
  const acme = acmeConfig({
    directory: setting('acmeDirectory', '--acme-directory', 'BERTH_ACME_DIRECTORY', LETS_ENCRYPT),
    email: setting('acmeEmail', '--acme-email', 'BERTH_ACME_EMAIL', ''),
    ca: setting('acmeCa', '--acme-ca', 'BERTH_ACME_CA', ''),
    resolver: setting('acmeResolver', '--acme-resolver', 'BERTH_ACME_RESOLVER', ''),
    challengePort: setting('acmeChallengePort', '--acme-challenge-port', 'BERTH_ACME_CHALLENGE_PORT', ''),
  });
  const metricsSetting = setting('metrics', '--metrics', 'BERTH_METRICS', '');
  const metrics = metricsSetting.text === '' || metricsSetting.text === 'off' ? null : (parseHostPort(metricsSetting.text) ?? null);
  if (metricsSetting.text !== '' && metricsSetting.text !== 'off' && !metrics) metricsSetting.bad('is not HOST:PORT', '127.0.0.1:9464', ' (a listener serving /metrics without a token; keep it on loopback or a private network)');
  const accessLog = accessLogSettings(
    setting('accessLogMaxSize', '--access-log-max-size', 'BERTH_ACCESS_LOG_MAX_SIZE', '64mb'),
    setting('accessLogKeep', '--access-log-keep', 'BERTH_ACCESS_LOG_KEEP', '14d'),
  );
  const retention = setting('logRetention', '--log-retention', 'BERTH_LOG_RETENTION', '14d');
  const logRetentionMs = parseDuration(retention.text);
  if (logRetentionMs === undefined || logRetentionMs < 3_600_000 || logRetentionMs > 3650 * 86_400_000) retention.bad('is not a duration from 1h to 3650d', '14d', ' (app log lines older than this are deleted)');
  if (issues.length) throw fail('CONFIG_INVALID', { issues });
  return {
    dataDir: flags.data ? resolve(flags.data) : defaultDataDir(env),
    api,
    http,
    baseDomain,
    maxUploadBytes: maxUploadBytes!,
    // An upload is the app without node_modules or .git: what makes one large is media, which does not
    // compress, while sources (4-5 times smaller compressed) are small. Twice the upload covers both and
    // stops a gzip bomb there: 400mb by default, on disk for each upload waiting in DATA/uploads. It
    // follows --max-upload, so one flag moves both; for uploads under 128mb it stays at 256mb, so the
    // limit a user meets first is still --max-upload.
    maxUnpackedBytes: Math.max(maxUploadBytes! * 2, 256 * 1024 ** 2),
    // An app's own files, without dependencies, are a few thousand at most; each one costs a file creation.
    maxUploadEntries: 20_000,
    buildTimeoutMs: 15 * 60_000,
    logLevel,
    runtime,
    dockerSocket: (env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice(7) : undefined) ?? '/var/run/docker.sock',
    // tcp:// and ssh:// engines are not supported: berth talks to a local engine over its Unix socket.
    ...(env.DOCKER_HOST && !env.DOCKER_HOST.startsWith('unix://') ? { dockerHostIgnored: env.DOCKER_HOST } : {}),
    nodeImage: flags.nodeImage ?? env.BERTH_NODE_IMAGE ?? 'node:24-slim',
    build: { memoryBytes: buildMemory!, cpus: buildCpus, concurrency: 1 },
    https,
    acme,
    accessLog,
    metrics,
    logRetentionMs: logRetentionMs!,
  };
}

type Setting = { text: string; bad(message: string, example: string, note?: string): void };

/**
 * The access log's size per file (`64mb`, at least 1mb) and how long rotated files are kept (`14d`, at
 * least 1h); a keep of `0` turns the log off.
 */
function accessLogSettings(size: Setting, keep: Setting): ServerConfig['accessLog'] {
  const maxFileBytes = parseSize(size.text);
  if (maxFileBytes === undefined || maxFileBytes < 1024 ** 2) size.bad('is not a size of at least 1mb', '64mb', ' (the access log is rotated at this size)');
  if (keep.text.trim() === '0') return null;
  const keepMs = parseDuration(keep.text);
  if (keepMs === undefined || keepMs < 3_600_000 || keepMs > 3650 * 86_400_000) keep.bad('is not a duration from 1h to 3650d', '14d', ' (rotated access logs older than this are deleted; 0 turns the access log off)');
  return { maxFileBytes: Math.floor(maxFileBytes ?? 0), keepDays: (keepMs ?? 0) / 86_400_000 };
}

/** Files in the data directory that other tools (the CLI, tests) read. */
export const dataFiles = (dataDir: string) => ({
  adminToken: join(dataDir, 'admin-token'),
  /** Written once the API listens: `{ url, pid }`, so clients find a server started with port 0. */
  apiInfo: join(dataDir, 'run', 'api.json'),
  daemonLog: join(dataDir, 'logs', 'daemon.log'),
  lock: join(dataDir, 'run', 'daemon.lock'),
});
