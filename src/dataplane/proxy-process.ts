import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHostPort } from '../lib/host-port.ts';
import { LONG_RUNNING_NODE_FLAGS } from '../lib/node-flags.ts';
import type { Logger } from '../lib/log.ts';
import { unixRequest } from '../lib/unix-http.ts';
import {
  InvalidCertificateSetError,
  StaleRouteTableError,
  type AcmeChallenges,
  type CertificateSet,
  type DataPlane,
  type ProxyInfo,
  type ProxyStats,
  type RouteTable,
} from './route-table.ts';

export interface ProxyProcessOptions {
  /** Where the socket, saved route table, saved certificates and log live (DATA/run). */
  runDir: string;
  logFile: string;
  listen: { host: string; port: number };
  /** The TLS listener; null: plain HTTP only. */
  https: { host: string; port: number } | null;
  /** The daemon's sealing key (DATA/secret.key): the proxy seals the private keys it saves with it. */
  sealingKeyPath: string;
  version: string;
  log: Logger;
  /** Marks the process as this berth's, for orphan scans. */
  ownerId: string;
  /** Where and how the proxy writes its access log (access-log.ts); null: none. */
  accessLog: AccessLogSettings | null;
  startTimeoutMs?: number;
}

export interface AccessLogSettings {
  dir: string;
  maxFileBytes: number;
  keepDays: number;
}

/** The flags that give the proxy process its access log. */
export const accessLogFlags = (settings: AccessLogSettings | null): string[] =>
  settings === null
    ? []
    : ['--access-log', settings.dir, '--access-log-max-bytes', String(settings.maxFileBytes), '--access-log-keep-days', String(settings.keepDays)];

/** Whether a running proxy writes the access log the daemon asks for (a proxy from before the access log reports none). */
const sameAccessLog = (running: ProxyStats['accessLog'], wanted: AccessLogSettings | null): boolean =>
  wanted === null
    ? !running
    : !!running && running.dir === wanted.dir && running.maxFileBytes === wanted.maxFileBytes && running.keepDays === wanted.keepDays;

const ENTRY = fileURLToPath(new URL('../proxy/main.ts', import.meta.url));

/**
 * The built-in proxy as a separate, long-lived process. The daemon adopts a proxy that is already
 * running (a control-plane restart) and only starts one when none answers; the proxy never depends
 * on the daemon being up.
 */
export function createProxyProcess(options: ProxyProcessOptions): DataPlane & { info(): Promise<ProxyInfo | undefined>; socketPath: string } {
  const socketPath = join(options.runDir, 'proxy.sock');
  const statePath = join(options.runDir, 'routes.json');
  const certsPath = join(options.runDir, 'certs.json');
  const log = options.log.child({ component: 'dataplane' });
  let address: { host: string; port: number } | undefined;
  // Once the proxy has a port (port 0 asks the kernel for one), a replacement must take the same one.
  let listen = options.listen;
  let https = options.https;

  const info = async (): Promise<ProxyInfo | undefined> => {
    try {
      const reply = await unixRequest<ProxyInfo>(socketPath, 'GET', '/info', undefined, 2000);
      return reply.status === 200 ? reply.body : undefined;
    } catch {
      return undefined;
    }
  };

  const sameAddress = (running: { host: string; port: number }, wanted: { host: string; port: number }) =>
    running.host === wanted.host && (wanted.port === 0 || running.port === wanted.port);
  // A proxy from before HTTPS reports no httpsAddress: it has no TLS listener.
  const matches = (running: ProxyInfo) =>
    sameAddress(running.address, listen) && (https === null ? !running.httpsAddress : !!running.httpsAddress && sameAddress(running.httpsAddress, https));

  const stats = async (): Promise<ProxyStats> => {
    const reply = await unixRequest<ProxyStats>(socketPath, 'GET', '/stats');
    if (reply.status !== 200) throw new Error(`proxy stats failed with ${reply.status}`);
    return reply.body;
  };

  const spawnProxy = async (): Promise<ProxyInfo> => {
    mkdirSync(options.runDir, { recursive: true, mode: 0o700 });
    const out = openSync(options.logFile, 'a', 0o600);
    const child = spawn(
      process.execPath,
      [
        ...LONG_RUNNING_NODE_FLAGS,
        ENTRY,
        '--listen',
        formatHostPort(listen),
        ...(https ? ['--https', formatHostPort(https)] : []),
        '--socket',
        socketPath,
        '--state',
        statePath,
        '--certs',
        certsPath,
        '--sealing-key',
        options.sealingKeyPath,
        '--version',
        options.version,
        ...accessLogFlags(options.accessLog),
      ],
      { detached: true, stdio: ['ignore', out, out], env: { ...process.env, BERTH_OWNER: options.ownerId, BERTH_COMPONENT: 'proxy' } },
    );
    closeSync(out);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
    child.unref();
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      const running = await info();
      if (running && running.pid === child.pid) return running;
      if (exited) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`the proxy did not start (${exited ?? 'no answer'}); see ${options.logFile}`);
  };

  return {
    socketPath,
    info,
    async start() {
      const running = await info();
      if (running && matches(running)) {
        log.info('adopted running proxy', { pid: running.pid, address: running.address, httpsAddress: running.httpsAddress, generation: running.generation });
        if (running.version !== options.version) {
          // Replacing it now would drop the connections it holds; it keeps serving with its own code.
          log.warn('the running proxy is from another berth version; it keeps serving until it is restarted (`berth down`, then `berth up` or `berth server`)', {
            proxy: running.version,
            daemon: options.version,
          });
        }
        // Its access log is not a reason to replace it either (that would drop connections): it keeps the
        // settings it started with until it is restarted, and says so.
        const current = await stats().catch(() => undefined);
        if (current && !sameAccessLog(current.accessLog, options.accessLog)) {
          log.warn('the running proxy writes its access log with other settings than asked for; they apply once it is restarted (`berth down`, then `berth up` or `berth server`)', {
            running: current.accessLog ? { dir: current.accessLog.dir, maxFileBytes: current.accessLog.maxFileBytes, keepDays: current.accessLog.keepDays } : null,
            asked: options.accessLog,
          });
        }
        address = running.address;
        listen = address;
        https = running.httpsAddress ?? null;
        return address;
      }
      if (running) {
        log.info('replacing proxy listening elsewhere', { pid: running.pid, address: running.address });
        await stopProxy(socketPath, running.pid);
      }
      const started = await spawnProxy();
      log.info('started proxy', { pid: started.pid, address: started.address, httpsAddress: started.httpsAddress });
      address = started.address;
      listen = address;
      https = started.httpsAddress;
      return address;
    },
    async apply(table: RouteTable) {
      const reply = await unixRequest<{ error?: { message: string }; generation?: number }>(socketPath, 'PUT', '/routes', table);
      if (reply.status === 409) throw new StaleRouteTableError(table.generation, reply.body?.generation ?? table.generation);
      if (reply.status !== 200) throw new Error(`proxy refused the route table: ${reply.body?.error?.message ?? reply.status}`);
    },
    async applyCertificates(set: CertificateSet) {
      const reply = await unixRequest<{ error?: { message: string; problems?: string[] }; generation?: number }>(socketPath, 'PUT', '/certificates', set, 30_000);
      if (reply.status === 409) throw new StaleRouteTableError(set.generation, reply.body?.generation ?? set.generation, 'certificate set');
      if (reply.status === 400) throw new InvalidCertificateSetError(reply.body?.error?.problems ?? [reply.body?.error?.message ?? 'refused']);
      if (reply.status !== 200) throw new Error(`proxy refused the certificate set: ${reply.body?.error?.message ?? reply.status}`);
    },
    async setChallenges(challenges: AcmeChallenges) {
      const reply = await unixRequest<{ error?: { message: string } }>(socketPath, 'PUT', '/challenges', challenges);
      if (reply.status !== 200) throw new Error(`proxy refused the challenge answers: ${reply.body?.error?.message ?? reply.status}`);
    },
    stats,
    async detach() {},
    async stop() {
      const running = await info();
      if (running) await stopProxy(socketPath, running.pid);
    },
  };
}

async function stopProxy(socketPath: string, pid: number): Promise<void> {
  try {
    await unixRequest(socketPath, 'POST', '/stop');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}
