import { request } from 'node:http';

export interface ProbeResult {
  ok: boolean;
  status?: number;
  error?: string;
  ms: number;
}

/**
 * One HTTP health probe, made by berth itself (nothing is needed inside the app): GET the path on the
 * instance's address with the app's hostname; 2xx and 3xx are healthy.
 */
export function probeHttp(options: { host: string; port: number; path: string; hostname: string; timeoutMs: number }): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Omit<ProbeResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, ms: Math.round(performance.now() - started) });
    };
    const req = request(
      {
        host: options.host,
        port: options.port,
        path: options.path,
        method: 'GET',
        agent: false,
        headers: { host: options.hostname, 'user-agent': 'berth-health', accept: '*/*', connection: 'close' },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        done(status >= 200 && status < 400 ? { ok: true, status } : { ok: false, status, error: `answered ${status}` });
      },
    );
    req.setTimeout(options.timeoutMs, () => {
      req.destroy();
      done({ ok: false, error: `no answer within ${options.timeoutMs} ms` });
    });
    req.on('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code === 'ECONNREFUSED' ? 'connection refused' : error.message }));
    req.end();
  });
}
