import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface Sample {
  start: number;
  end: number;
  status: number;
  release?: string;
  error?: string;
}

/**
 * A bounded load generator on loopback: `concurrency` keep-alive clients request in a loop until
 * `stop()` is called, `maxRequests` are done or `maxDurationMs` passes, whichever is first.
 */
export function startLoad(options: {
  port: number;
  host: string;
  path?: string;
  concurrency?: number;
  maxRequests?: number;
  maxDurationMs?: number;
  /** Over TLS (`port` is then the HTTPS listener's): the SNI name and the CA that the certificate must chain to. */
  tls?: { servername: string; ca: string };
  /**
   * Each request carries `Cookie: berth_split=<n mod 100>` for the n-th request, so a canary split sees
   * clients spread over every bucket (from one loopback address they would all share one).
   */
  splitCookies?: boolean;
}): { samples: Sample[]; stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  const tls = options.tls;
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.concurrency ?? 8, servername: tls.servername, ca: tls.ca })
    : new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  const send = (tls ? httpsRequest : request) as typeof request;
  const deadline = Date.now() + (options.maxDurationMs ?? 120_000);
  const maxRequests = options.maxRequests ?? 200_000;
  let stopped = false;
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = Date.now();
      const headers: Record<string, string> = { host: options.host };
      if (options.splitCookies) headers.cookie = `berth_split=${sent % 100}`;
      sent++;
      const req = send({ host: '127.0.0.1', port: options.port, path: options.path ?? '/', headers, agent, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let release: string | undefined;
          try {
            release = JSON.parse(Buffer.concat(chunks).toString()).release;
          } catch {}
          samples.push({ start, end: Date.now(), status: res.statusCode ?? 0, release });
          resolve();
        });
        res.on('error', (error) => {
          samples.push({ start, end: Date.now(), status: 0, error: error.message });
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => {
        samples.push({ start, end: Date.now(), status: 0, error: error.message });
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (!stopped && Date.now() < deadline && samples.length < maxRequests) await one();
  };
  const workers = Array.from({ length: options.concurrency ?? 8 }, worker);
  return {
    samples,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return samples;
    },
  };
}

export const failures = (samples: Sample[]) => samples.filter((s) => s.status !== 200);
