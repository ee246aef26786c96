import { connect } from 'node:net';
import type { ProbeResult } from './probe.ts';

/** Accepts TCP connections: the readiness of a process with a port but no HTTP health check. */
export function probeTcp(options: { host: string; port: number; timeoutMs: number }): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: options.host, port: options.port });
    const done = (result: Omit<ProbeResult, 'ms'>) => {
      socket.destroy();
      clearTimeout(timer);
      resolve({ ...result, ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => done({ ok: false, error: `no connection within ${options.timeoutMs} ms` }), options.timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code === 'ECONNREFUSED' ? 'connection refused' : error.message }));
  });
}
