import { availableParallelism, homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fail, type Issue } from '../errors/catalogue.ts';
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
  /** Largest accepted upload once unpacked, bytes. */
  maxUnpackedBytes: number;
  /** A build that runs longer is stopped and the deploy fails. */
  buildTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** auto: docker when an engine answers, else host processes. */
  runtime: 'auto' | 'docker' | 'process';
  /** The Docker Engine's socket. */
  dockerSocket: string;
  /** Base image of the Dockerfile berth writes for Node apps without one. */
  nodeImage: string;
  /** Caps for image builds, so running apps keep their share of the machine. */
  build: { memoryBytes: number; cpus: number; concurrency: number };
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
}

export const DEFAULT_API = '127.0.0.1:7171';
export const DEFAULT_HTTP = '0.0.0.0:8080';

/** The data directory when neither --data nor BERTH_DATA says: $XDG_DATA_HOME/berth or ~/.local/share/berth. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_DATA ? resolve(env.BERTH_DATA) : join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'berth');
}

/** Flags win over environment variables, which win over defaults. Throws CONFIG_INVALID naming each bad setting. */
export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const issues: Issue[] = [];
  const address = (name: 'api' | 'http', flag: string | undefined, envName: string, fallback: string) => {
    const text = flag ?? env[envName] ?? fallback;
    const parsed = parseHostPort(text);
    if (!parsed) issues.push({ path: `--${name}`, message: `"${text}" is not HOST:PORT`, fix: `for example --${name} ${fallback} (or set ${envName})` });
    return parsed ?? { host: '127.0.0.1', port: 0 };
  };
  const api = address('api', flags.api, 'BERTH_API', DEFAULT_API);
  const http = address('http', flags.http, 'BERTH_HTTP', DEFAULT_HTTP);
  const baseDomain = (flags.baseDomain ?? env.BERTH_BASE_DOMAIN ?? 'localhost').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(baseDomain)) {
    issues.push({ path: '--base-domain', message: `"${baseDomain}" is not a domain name`, fix: 'for example --base-domain apps.example.com' });
  }
  const maxUploadText = flags.maxUpload ?? env.BERTH_MAX_UPLOAD ?? '200mb';
  const maxUploadBytes = parseSize(maxUploadText);
  if (maxUploadBytes === undefined || maxUploadBytes < 1024) {
    issues.push({ path: '--max-upload', message: `"${maxUploadText}" is not a size of at least 1kb`, fix: 'for example --max-upload 200mb' });
  }
  const logLevel = (flags.logLevel ?? env.BERTH_LOG_LEVEL ?? 'info') as ServerConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    issues.push({ path: '--log-level', message: `"${logLevel}" is not a log level`, fix: 'use debug, info, warn or error' });
  }
  const runtime = (flags.runtime ?? env.BERTH_RUNTIME ?? 'auto') as ServerConfig['runtime'];
  if (!['auto', 'docker', 'process'].includes(runtime)) {
    issues.push({ path: '--runtime', message: `"${runtime}" is not a runtime`, fix: 'use auto (docker when an engine answers), docker or process' });
  }
  const buildMemoryText = flags.buildMemory ?? env.BERTH_BUILD_MEMORY ?? `${Math.max(512, Math.min(2048, Math.floor(totalmem() / 1024 ** 2 / 2)))}mb`;
  const buildMemory = parseSize(buildMemoryText);
  if (buildMemory === undefined || buildMemory < 64 * 1024 ** 2) {
    issues.push({ path: '--build-memory', message: `"${buildMemoryText}" is not a size of at least 64mb`, fix: 'for example --build-memory 1gb' });
  }
  const buildCpusText = flags.buildCpus ?? env.BERTH_BUILD_CPUS ?? String(Math.max(1, availableParallelism() - 1));
  const buildCpus = Number(buildCpusText);
  if (!(buildCpus >= 0.1 && buildCpus <= 256)) {
    issues.push({ path: '--build-cpus', message: `"${buildCpusText}" is not a number of CPUs`, fix: 'for example --build-cpus 1 (a build never takes more)' });
  }
  if (issues.length) throw fail('CONFIG_INVALID', { issues: issues.map((issue) => fromEnvironment(issue, flags, env)) });
  return {
    dataDir: flags.data ? resolve(flags.data) : defaultDataDir(env),
    api,
    http,
    baseDomain,
    maxUploadBytes: maxUploadBytes!,
    maxUnpackedBytes: Math.max(maxUploadBytes! * 5, 1024 ** 3),
    buildTimeoutMs: 15 * 60_000,
    logLevel,
    runtime,
    dockerSocket: (env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice(7) : undefined) ?? '/var/run/docker.sock',
    nodeImage: flags.nodeImage ?? env.BERTH_NODE_IMAGE ?? 'node:24-slim',
    build: { memoryBytes: buildMemory!, cpus: buildCpus, concurrency: 1 },
  };
}

/** Each flag and the environment variable it falls back to. */
const SETTING_SOURCES: Record<string, [keyof ServerFlags, string]> = {
  '--api': ['api', 'BERTH_API'],
  '--http': ['http', 'BERTH_HTTP'],
  '--base-domain': ['baseDomain', 'BERTH_BASE_DOMAIN'],
  '--max-upload': ['maxUpload', 'BERTH_MAX_UPLOAD'],
  '--log-level': ['logLevel', 'BERTH_LOG_LEVEL'],
  '--runtime': ['runtime', 'BERTH_RUNTIME'],
  '--build-memory': ['buildMemory', 'BERTH_BUILD_MEMORY'],
  '--build-cpus': ['buildCpus', 'BERTH_BUILD_CPUS'],
};

/** An issue names the environment variable when the bad value came from there, not from the flag. */
function fromEnvironment(issue: Issue, flags: ServerFlags, env: NodeJS.ProcessEnv): Issue {
  const source = SETTING_SOURCES[issue.path];
  if (!source || flags[source[0]] !== undefined || env[source[1]] === undefined) return issue;
  return { ...issue, path: source[1], fix: `${issue.fix ? `${issue.fix}, or ` : ''}correct or unset ${source[1]}` };
}

/** Files in the data directory that other tools (the CLI, tests) read. */
export const dataFiles = (dataDir: string) => ({
  adminToken: join(dataDir, 'admin-token'),
  /** Written once the API listens: `{ url, pid }`, so clients find a server started with port 0. */
  apiInfo: join(dataDir, 'run', 'api.json'),
  daemonLog: join(dataDir, 'logs', 'daemon.log'),
  lock: join(dataDir, 'run', 'daemon.lock'),
});
