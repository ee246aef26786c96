import { Agent, request } from 'node:http';

/** One answer: when it was sent and answered, its status, the release that answered, the client's bucket. */
export interface CanarySample {
  start: number;
  end: number;
  status: number;
  release?: string;
  bucket: number;
  error?: string;
}

/**
 * A bounded load of many small clients on loopback, as a canary sees real users: each request comes
 * from one of 100 clients, each with its own `berth_split` cookie (its bucket, 0..99), so the proxy's
 * cookie split spreads them and a client stays on its side. Stops at `stop()`, `maxRequests` or
 * `maxDurationMs`, whichever is first.
 */
export function startCanaryLoad(options: { port: number; host: string; concurrency?: number; maxRequests?: number; maxDurationMs?: number; pauseMs?: number }) {
  const samples: CanarySample[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 4 });
  const deadline = Date.now() + (options.maxDurationMs ?? 60_000);
  const maxRequests = options.maxRequests ?? 20_000;
  let stopped = false;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const bucket = next++ % 100;
      const start = Date.now();
      const done = (sample: Omit<CanarySample, 'start' | 'end' | 'bucket'>) => {
        samples.push({ start, end: Date.now(), bucket, ...sample });
        resolve();
      };
      const req = request({ host: '127.0.0.1', port: options.port, path: '/', headers: { host: options.host, cookie: `berth_split=${bucket}` }, agent, timeout: 20_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let release: string | undefined;
          try {
            release = JSON.parse(Buffer.concat(chunks).toString()).release;
          } catch {}
          done({ status: res.statusCode ?? 0, ...(release ? { release } : {}) });
        });
        res.on('error', (error) => done({ status: 0, error: error.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => done({ status: 0, error: error.message }));
      req.end();
    });
  const worker = async () => {
    while (!stopped && Date.now() < deadline && samples.length < maxRequests) {
      await one();
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 4 }, worker);
  return {
    samples,
    async stop(): Promise<CanarySample[]> {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return samples;
    },
  };
}
