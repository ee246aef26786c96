/**
 * `berth up`: everything local in one command. Starts `berth server` in the background unless one
 * already answers for the data directory, deploys examples/hello the same way `berth deploy` would, and
 * says where things are and what to try next.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isBerthError } from '../../errors/catalogue.ts';
import { systemClock } from '../../lib/clock.ts';
import { LONG_RUNNING_NODE_FLAGS } from '../../lib/node-flags.ts';
import { formatHostPort, parseHostPort } from '../../lib/host-port.ts';
import { dataFiles, defaultDataDir } from '../../server/config.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { ApiClient } from '../client.ts';
import type { Context } from '../context.ts';
import { DEFAULT_URL, loadTarget, localUrl, readLocalServer, type Target } from '../config.ts';
import { CliError, EXIT_INTERRUPTED } from '../errors.ts';
import { reportOutcome } from '../follow.ts';
import { mainScript, repoRoot } from '../version.ts';
import type { Deployment, ServerInfo } from '../../model/wire.ts';
import { deployFolder } from './deploy.ts';

export const spec: CommandSpec = {
  name: 'up',
  usage: 'berth up [--data DIR] [--api HOST:PORT] [--http HOST:PORT] [--https HOST:PORT|off]',
  summary: 'Start a local berth server in the background and deploy the example app.',
  details: [
    'If a server already answers for the data directory it is reused. The server\'s output goes to DATA/logs/daemon.log; `berth down` stops it. --json prints `{ app, urls, apiUrl, adminTokenFile, dataDir, deployment }`.',
  ],
  flags: {
    data: { type: 'string', value: 'DIR', doc: 'data directory (default: BERTH_DATA, else /var/lib/berth for root, else ~/.local/share/berth)' },
    api: { type: 'string', value: 'HOST:PORT', doc: 'control API address for a server started now (default 127.0.0.1:7171)' },
    http: { type: 'string', value: 'HOST:PORT', doc: 'app address for a server started now (default 0.0.0.0:8080)' },
    https: { type: 'string', value: 'HOST:PORT', doc: 'TLS address for a server started now, or off (default 0.0.0.0:8443; the BERTH_ACME_* variables set the CA)' },
  },
  args: [],
};

export interface UpArgs {
  globals: Globals;
  data?: string;
  api?: string;
  http?: string;
  https?: string;
}

export function parse(argv: string[]): UpArgs {
  const { flags, globals } = parseCommandArgs(spec, argv);
  const args: UpArgs = { globals };
  for (const key of ['data', 'api', 'http', 'https'] as const) if (typeof flags[key] === 'string') args[key] = flags[key] as string;
  return args;
}

const START_TIMEOUT_MS = 30_000;
const POLL_MS = 200;
const LOG_TAIL_LINES = 20;

/** Where to reach a server started with `--api`: a wildcard listen address is reached on loopback. Port 0 is only known from api.json. */
export function apiUrlFromFlag(api: string | undefined): string | undefined {
  if (api === undefined) return DEFAULT_URL;
  const parsed = parseHostPort(api);
  if (!parsed || parsed.port === 0) return undefined;
  const host = parsed.host === '0.0.0.0' || parsed.host === '' ? '127.0.0.1' : parsed.host === '::' ? '::1' : parsed.host;
  return `http://${formatHostPort({ host, port: parsed.port })}`;
}

export function serverArgv(options: { dataDir: string; api?: string; http?: string; https?: string; runtime?: string }): string[] {
  return [
    'server',
    '--data',
    options.dataDir,
    ...(options.api ? ['--api', options.api] : []),
    ...(options.http ? ['--http', options.http] : []),
    ...(options.https ? ['--https', options.https] : []),
    ...(options.runtime ? ['--runtime', options.runtime] : []),
  ];
}

/**
 * A first deploy that failed because the Docker Engine cannot reach a registry (the example's base image
 * cannot be pulled): `berth up` then runs the example on the process runtime instead, saying why, so the
 * README's first command still ends with an app running. Only for a server this command started and a
 * runtime nobody chose.
 */
export function registryUnreachable(deployment: Deployment): boolean {
  return deployment.state === 'failed' && ['REGISTRY_UNREACHABLE', 'PULL_TIMEOUT'].includes(deployment.error?.code ?? '');
}

export function lastLines(text: string, count: number): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return text === '' ? [] : lines.slice(-count);
}

/**
 * Whether a berth server answers `GET /v1/info` at `url`. `any`: even an error answer such as 401 counts
 * (something berth-like is there and starting another would clash); `token`: only one that takes the token.
 */
async function answers(url: string, token: string | undefined, accept: 'any' | 'token'): Promise<boolean> {
  if (accept === 'token' && token === undefined) return false;
  try {
    await new ApiClient({ url, token }).get('/v1/info', { timeoutMs: 2000 });
    return true;
  } catch (error) {
    return accept === 'any' && !(isBerthError(error) && (error.code === 'DAEMON_UNREACHABLE' || error.code === 'INTERNAL'));
  }
}

async function startDaemon(ctx: Context, options: { dataDir: string; api?: string; http?: string; https?: string; runtime?: string }): Promise<Target> {
  const files = dataFiles(options.dataDir);
  mkdirSync(dirname(files.daemonLog), { recursive: true, mode: 0o700 });
  const log = openSync(files.daemonLog, 'a', 0o600);
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...LONG_RUNNING_NODE_FLAGS, mainScript(), ...serverArgv(options)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: ctx.io.env,
    cwd: options.dataDir,
  });
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `it was killed by ${signal}` : `it exited with code ${code}`;
  });
  child.once('error', (error) => {
    exited = `it could not be started: ${error.message}`;
  });
  // Detached and unreferenced: the server outlives this command.
  child.unref();
  const out = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  out.write(`starting the berth server (pid ${child.pid}, log ${files.daemonLog})\n`);

  while (!exited && Date.now() - startedAt < START_TIMEOUT_MS) {
    const local = await readLocalServer(options.dataDir);
    // api.json from an earlier server names another pid; wait for ours.
    if (local.apiInfo && (local.apiInfo.pid === undefined || local.apiInfo.pid === child.pid)) {
      const url = localUrl(local);
      if (await answers(url, local.adminToken, 'token')) return { url, token: local.adminToken, source: 'local' };
    }
    await systemClock.sleep(POLL_MS);
  }
  if (!exited && child.pid !== undefined) {
    // Never answering within the bound counts as failing; do not leave a half-started daemon behind.
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const text = await readFile(files.daemonLog, 'utf8').catch(() => '');
  const tail = lastLines(text, LOG_TAIL_LINES);
  if (tail.length) ctx.io.stderr.write(`last lines of ${files.daemonLog}:\n${tail.map((line) => `  | ${line}`).join('\n')}\n`);
  throw new CliError(
    `the berth server did not start: ${exited ?? `it did not answer within ${START_TIMEOUT_MS / 1000}s and was stopped`}`,
    `the log above says why (full log: ${files.daemonLog}); \`berth server --data ${options.dataDir}\` runs it in the foreground`,
  );
}

async function serverDriver(target: Target): Promise<string | undefined> {
  try {
    return (await new ApiClient({ url: target.url, token: target.token }).get<ServerInfo>('/v1/info', { timeoutMs: 5000 })).driver;
  } catch {
    return undefined;
  }
}

/** Stops a server this command started (and what it runs), and waits until it no longer answers. */
async function stopServer(target: Target): Promise<void> {
  await new ApiClient({ url: target.url, token: target.token }).request('POST', '/v1/system/shutdown', { body: { stopApps: true }, timeoutMs: 10_000 }).catch(() => undefined);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && (await answers(target.url, target.token, 'any'))) await systemClock.sleep(POLL_MS);
}

export function nextSteps(input: { app: string; urls: string[]; apiUrl: string; adminTokenFile: string; dataDir: string; exportData: boolean; otherTarget?: string; cli?: string }): string {
  const cli = input.cli ?? 'berth';
  const rows: [string, string][] = [
    ['app', input.urls[0] ?? '(no web process)'],
    ['API', input.apiUrl],
    ['admin token', input.adminTokenFile],
    ['data', input.dataDir],
  ];
  const tries = [`${cli} status ${input.app}`, `${cli} logs ${input.app} -f`, `${cli} down    (stops the server and every app)`];
  const width = Math.max(...[...rows.map(([key]) => key), 'try', 'first'].map((key) => key.length));
  const lines = ['', 'berth is running:', ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)];
  if (input.exportData) lines.push(`  ${'first'.padEnd(width)}  export BERTH_DATA=${input.dataDir}    (so berth finds this server)`);
  if (input.otherTarget) lines.push(`  ${'note'.padEnd(width)}  the commands below go to ${input.otherTarget} (BERTH_URL or \`berth login\`); pass --url ${input.apiUrl} to reach this one`);
  lines.push(`  ${'try'.padEnd(width)}  ${tries[0]}`, ...tries.slice(1).map((text) => `  ${''.padEnd(width)}  ${text}`));
  return lines.join('\n') + '\n';
}

export async function run(args: UpArgs, ctx: Context): Promise<number> {
  const dataDir = args.data ? resolve(ctx.io.cwd, args.data) : defaultDataDir(ctx.io.env);
  const local = await readLocalServer(dataDir);
  const out = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  const knownUrl = local.apiInfo ? localUrl(local) : apiUrlFromFlag(args.api ?? (ctx.io.env.BERTH_API || undefined));
  let target: Target;
  let started = false;
  if (knownUrl && (await answers(knownUrl, local.adminToken, 'any'))) {
    out.write(`berth server already running at ${knownUrl}\n`);
    target = { url: knownUrl, token: local.adminToken, source: 'local' };
  } else {
    target = await startDaemon(ctx, { dataDir, api: args.api, http: args.http, https: args.https });
    started = true;
    out.write(`berth server is up at ${target.url}\n`);
  }
  // The deploy below talks to this server whatever --url, BERTH_URL or a saved login say.
  const deployTo = (to: Target) =>
    deployFolder({ ...ctx, target: async () => to, client: async () => new ApiClient({ url: to.url, token: to.token }) }, { dir: join(repoRoot(), 'examples', 'hello'), wait: true, detach: false });
  let final = await deployTo(target);
  if (!final) return EXIT_INTERRUPTED;
  const chosen = ctx.io.env.BERTH_RUNTIME !== undefined && ctx.io.env.BERTH_RUNTIME !== '' && ctx.io.env.BERTH_RUNTIME !== 'auto';
  if (registryUnreachable(final) && started && !chosen && (await serverDriver(target)) === 'docker') {
    out.write(
      `\nthe Docker Engine cannot reach an image registry (${final.error!.message}):\n` +
        'berth runs the example on the process runtime instead (host processes, no image to pull).\n' +
        'Once the engine reaches a registry, `berth down` and `berth up` run it in a container.\n\n',
    );
    await stopServer(target);
    target = await startDaemon(ctx, { dataDir, api: args.api, http: args.http, https: args.https, runtime: 'process' });
    out.write(`berth server is up at ${target.url} (process runtime)\n`);
    final = await deployTo(target);
    if (!final) return EXIT_INTERRUPTED;
  }
  const adminTokenFile = dataFiles(dataDir).adminToken;
  const summary = { app: final.app, urls: final.urls, apiUrl: target.url, adminTokenFile, dataDir, deployment: final };
  const code = reportOutcome(ctx, final, summary);
  if (code !== 0 || ctx.globals.json) return code;
  const usual = await loadTarget({}, { ...ctx.io.env, BERTH_DATA: dataDir });
  ctx.io.stdout.write(
    nextSteps({
      app: final.app,
      urls: final.urls,
      apiUrl: target.url,
      adminTokenFile,
      dataDir,
      exportData: dataDir !== defaultDataDir(ctx.io.env),
      cli: ctx.io.env.BERTH_INVOKED_AS || 'berth',
      ...(usual.url !== target.url ? { otherTarget: usual.url } : {}),
    }),
  );
  return 0;
}
