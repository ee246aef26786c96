import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { packDirectory } from '../../src/archive/pack.ts';
import { createDockerEngine } from '../../src/runtime/docker/engine-http.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { removeAppUsers } from '../../src/runtime/process/app-users.ts';
import { findOwnedProcesses } from '../../src/runtime/process/owned.ts';
import { waitFor } from './http.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
/** The CLI as users run it. */
export const BIN = join(ROOT, 'bin', 'berth');

export interface TestBerthOptions {
  runtime?: 'process' | 'docker';
  args?: string[];
  dataDir?: string;
  /** The HTTP listener's port (a test that must know it before the daemon starts: pebble's httpPort); else the kernel picks. */
  httpPort?: number;
  /** HTTPS on (a loopback port the kernel picks, kept across restarts) unless false. */
  https?: boolean;
  /** Where certificates come from: the ACME server settings (test/support/pebble.ts gives them for pebble). */
  acme?: { directory: string; caFile?: string; resolver?: { host: string; port: number }; email?: string; challengePort?: number };
}

/** `--acme-*` flags for the settings given. */
function acmeArgs(acme: TestBerthOptions['acme']): string[] {
  if (!acme) return [];
  return [
    '--acme-directory', acme.directory,
    ...(acme.caFile ? ['--acme-ca', acme.caFile] : []),
    ...(acme.resolver ? ['--acme-resolver', `${acme.resolver.host}:${acme.resolver.port}`] : []),
    ...(acme.email ? ['--acme-email', acme.email] : []),
    ...(acme.challengePort ? ['--acme-challenge-port', String(acme.challengePort)] : []),
  ];
}

export interface ApiReply<T = any> {
  status: number;
  body: T;
  headers?: Record<string, string>;
}

/**
 * A real berth daemon for end-to-end tests: its own process, its own data directory, real proxy and
 * app processes on 127.0.0.1 with ports picked by the kernel. `close()` stops everything it started
 * and checks nothing of it is left running.
 */
export class TestBerth {
  readonly dataDir: string;
  daemon: ChildProcess | null = null;
  apiUrl = '';
  httpPort = 0;
  /** The proxy's TLS listener's port; 0 while HTTPS is off. */
  httpsPort = 0;
  token = '';
  #stderr = '';

  /** Server flags every start of this daemon gets (the runtime, above all: tests never depend on what the machine has). */
  readonly baseArgs: string[];
  /** `--https` unless HTTPS is off: a port of the kernel's choosing on loopback at first, the same one on restarts. */
  readonly #https: boolean;

  constructor(options: TestBerthOptions = {}) {
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-e2e-'));
    this.#https = options.https !== false;
    if (options.httpPort) this.httpPort = options.httpPort;
    this.baseArgs = ['--runtime', options.runtime ?? 'process', ...acmeArgs(options.acme), ...(this.#https ? [] : ['--https', 'off']), ...(options.args ?? [])];
  }

  static async start(options: TestBerthOptions = {}): Promise<TestBerth> {
    const berth = new TestBerth(options);
    await berth.startDaemon();
    return berth;
  }

  /** Starts (or restarts) the daemon on the same data directory and waits until its API answers. */
  async startDaemon(extraArgs: string[] = []): Promise<void> {
    rmSync(join(this.dataDir, 'run', 'api.json'), { force: true });
    this.#stderr = '';
    const https = this.#https ? ['--https', `127.0.0.1:${this.httpsPort}`] : [];
    const daemon = spawn(process.execPath, [CLI, 'server', '--data', this.dataDir, '--api', '127.0.0.1:0', '--http', this.httpPort ? `127.0.0.1:${this.httpPort}` : '127.0.0.1:0', ...https, ...this.baseArgs, ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BERTH_LOG_LEVEL: 'info' },
    });
    daemon.stderr!.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-20_000)));
    this.daemon = daemon;
    const info = await waitFor(
      'the berth daemon to start',
      () => {
        if (daemon.exitCode !== null) throw new Error(`daemon exited with ${daemon.exitCode}:\n${this.#stderr}`);
        const file = join(this.dataDir, 'run', 'api.json');
        return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string; http: { port: number }; https?: { port: number } | null }) : undefined;
      },
      30_000,
      50,
    );
    this.apiUrl = info.url;
    this.httpPort = info.http.port;
    this.httpsPort = info.https?.port ?? 0;
    this.token = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
  }

  /**
   * The environment of the real CLI (bin/berth) reaching this daemon by URL and token, as a remote one
   * would: a home of its own (the login test reads its config there) and no local server to find.
   */
  cliEnv(extra: Record<string, string> = {}): Record<string, string> {
    const home = join(this.dataDir, 'cli-home');
    return {
      PATH: process.env.PATH!,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      BERTH_DATA: join(home, 'no-local-server'),
      NO_COLOR: '1',
      BERTH_URL: this.apiUrl,
      BERTH_TOKEN: this.token,
      ...extra,
    };
  }

  /** Runs bin/berth to completion against this daemon. */
  cli(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string } = {}): { code: number | null; out: string; err: string } {
    const result = spawnSync(BIN, args, { cwd: options.cwd ?? ROOT, input: options.input ?? '', encoding: 'utf8', timeout: 120_000, env: this.cliEnv(options.env) });
    return { code: result.status, out: result.stdout, err: result.stderr };
  }

  /**
   * cli() without blocking this process: while a synchronous CLI run holds the event loop, a pooled
   * keep-alive connection of this process's fetch can be closed by the daemon unnoticed, and the next
   * request on it fails with "other side closed". Use this in tests that run long CLI commands (`berth
   * run` on the docker runtime) between API calls.
   */
  cliAsync(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(BIN, args, { cwd: options.cwd ?? ROOT, env: this.cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  get daemonLog(): string {
    return this.#stderr;
  }

  async api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply<T>> {
    const res = await fetch(this.apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: Object.fromEntries(res.headers) };
  }

  /** Uploads a folder as `berth deploy` does and returns the API's answer (202 with the deployment, or an error). */
  async upload(app: string, dir: string, query = ''): Promise<ApiReply> {
    const packed = await packDirectory(dir);
    const chunks: Buffer[] = [];
    for await (const chunk of packed.stream) chunks.push(chunk as Buffer);
    return this.uploadBytes(app, Buffer.concat(chunks), query);
  }

  async uploadBytes(app: string, bytes: Buffer, query = ''): Promise<ApiReply> {
    const res = await fetch(`${this.apiUrl}/v1/apps/${app}/deploys${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/gzip' },
      body: bytes,
    });
    return { status: res.status, body: await res.json() };
  }

  /** Waits until the deployment has switched traffic (or ended); returns it. */
  async settle(deploymentId: string, until: 'switched' | 'finished' = 'switched', timeoutMs = 90_000): Promise<any> {
    return waitFor(
      `deployment ${deploymentId} to be ${until}`,
      async () => {
        const d = (await this.api('GET', `/v1/deployments/${deploymentId}`)).body;
        const done = ['succeeded', 'failed', 'interrupted'].includes(d.state) || (until === 'switched' && d.state === 'draining');
        return done ? d : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** Deploys a folder and waits for traffic to move; throws with the reason when it fails. */
  async deploy(app: string, dir: string): Promise<any> {
    const reply = await this.upload(app, dir, '?wait=1');
    if (reply.status !== 202) throw new Error(`upload refused: ${JSON.stringify(reply.body)}`);
    const d = await this.settle(reply.body.deployment.id);
    if (d.state !== 'draining' && d.state !== 'succeeded') throw new Error(`deploy ${d.state}: ${JSON.stringify(d.error)}\n${this.#stderr.slice(-3000)}`);
    return d;
  }

  ownerId(): string {
    return ownerIdOf(this.dataDir);
  }

  /** Every live process that carries this berth's owner marker (proxy, instances, builds). */
  ownedProcesses() {
    return findOwnedProcesses(this.ownerId());
  }

  /** Kills the daemon without warning (the proxy and apps keep running, as they would). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const daemon = this.daemon!;
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill(signal);
    await exited;
    this.daemon = null;
  }

  /** Stops everything this berth started and removes its data; asserts no owned process survives. */
  async close(): Promise<void> {
    let owner: string | undefined;
    try {
      owner = this.ownerId();
    } catch {}
    if (this.daemon && this.daemon.exitCode === null) {
      try {
        await this.api('POST', '/v1/system/shutdown', { stopApps: true });
        await waitFor('the daemon to exit', () => this.daemon!.exitCode !== null, 20_000);
      } catch {
        this.daemon.kill('SIGKILL');
      }
    }
    if (owner && this.baseArgs.includes('docker')) await removeDockerResources(owner);
    if (owner) {
      // Whatever is still there (a test that killed the daemon): end it, so tests never leak processes.
      for (const p of findOwnedProcesses(owner)) {
        try {
          process.kill(-p.pgrp, 'SIGKILL');
        } catch {}
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {}
      }
    }
    // A root daemon made a user per app: they go with the data dir (destroy and recovery delete them too).
    if (owner) await removeAppUsers({ ownerId: owner, homes: join(this.dataDir, 'runtime', 'process', 'homes'), log: silentLogger });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Every container, network, volume and image labelled as this berth's (docker runtime tests). */
export async function dockerResources(owner: string) {
  const engine = createDockerEngine();
  const mine = { label: [`berth.owner=${owner}`] };
  return {
    engine,
    containers: await engine.listContainers({ all: true, filters: mine }),
    networks: await engine.listNetworks(mine),
    volumes: await engine.listVolumes(mine),
    images: await engine.listImages(mine),
  };
}

/** Removes every container, network, volume and image labelled as this berth's. */
export async function removeDockerResources(owner: string): Promise<void> {
  const { engine, containers, networks, volumes, images } = await dockerResources(owner);
  for (const c of containers) await engine.removeContainer(c.Id, { force: true, volumes: true }).catch(() => {});
  for (const n of networks) await engine.removeNetwork(n.Id).catch(() => {});
  for (const v of volumes) await engine.removeVolume(v.Name).catch(() => {});
  for (const i of images) await engine.removeImage(i.Id, { force: true }).catch(() => {});
}

/** A copy of a fixture app in a temp folder, with files replaced or added. */
export function appCopy(fixture: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-app-${fixture}-`));
  cpSync(join(ROOT, 'test', 'fixtures', 'apps', fixture), dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The owner marker a berth server with this data dir puts on every process it starts. */
export function ownerIdOf(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, 'berth.db'), { readOnly: true });
  try {
    return (db.prepare("SELECT value FROM settings WHERE key = 'owner_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
}
