/**
 * What a canary split costs the proxy: requests/s through berth's proxy process to one target, against a
 * 90/10 split (sticky `cookie`) of two targets, in the same run, the same proxy process, the same upstream
 * and the same client. Rounds alternate (single, split, split, single, ...) and the route table is swapped
 * between them over the proxy's control socket, so drift on a shared machine falls on both alike.
 *
 * The client is wrk with a script cycling the Cookie through `berth_split=0..99`, on both sides of the
 * comparison: under the split exactly 10 % of requests go to the canary (checked with the proxy's
 * per-release counters; a run that does not split 90/10 throws), and no answer carries a Set-Cookie
 * (the common case: a returning client). Both targets are the one upstream process (two instances at one
 * address, each with its own pool), so the upstream's capacity is the same for both configurations.
 *
 * `node bench/split-throughput.ts` prints the result as JSON; bench/canary.ts calls `measureSplitThroughput`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyStats, RouteTable } from '../src/dataplane/route-table.ts';
import { unixRequest } from '../src/lib/unix-http.ts';
import { Cleanup } from './lib/cleanup.ts';
import { cpuTicks, freePort, processTree, spawnGroup, ticksBetween, waitFor, waitForPort } from './lib/procs.ts';
import { clockTicksPerSecond } from './lib/tools.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

export interface SplitThroughputOptions {
  /** Pairs of measured runs (one single, one split each, back to back); default 6. */
  rounds?: number;
  /** Seconds of each measured run; default 2. */
  durationS?: number;
  /** Seconds of load before each measured run (not counted); default 1. */
  warmupS?: number;
  /** wrk's connections and threads; default 16 and 1. */
  connections?: number;
  threads?: number;
  /** The proxy's entry file; default src/proxy/main.ts (run with type stripping). bench/ runs may pass dist/proxy/main.js. */
  proxyEntry?: string;
  /** Progress lines; default none. */
  log?: (line: string) => void;
  /** Aborting stops wrk; everything started is stopped either way. */
  signal?: AbortSignal;
}

export interface SplitThroughput {
  /** Median requests/s through the proxy to one target. */
  single: number;
  /** Median requests/s through the proxy under a 90/10 cookie split of two targets. */
  split: number;
  /**
   * The median over rounds of split / single, each round's two runs back to back: on a shared machine the
   * load drifts between rounds far more than within one, so paired ratios are steadier than `split / single`.
   */
  ratio: number;
  /**
   * Median CPU the proxy process spent per request, microseconds (utime+stime from /proc over the measured
   * run): less sensitive than requests/s to whatever else the machine runs meanwhile.
   */
  cpuUsPerRequest: { single: number; split: number };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = 'split.localhost';
const CANARY_PERCENT = 10;

/** Each wrk thread makes the 100 requests once, then cycles through them: the client's work is the same for both tables. */
const WRK_SCRIPT = `
local requests = {}
local i = 0
init = function(args)
  for b = 0, 99 do
    requests[b + 1] = wrk.format("GET", "/", { ["Host"] = "${HOST}", ["Cookie"] = "session=1; berth_split=" .. b })
  end
end
request = function()
  i = i % 100 + 1
  return requests[i]
end
`;

let generation = 0;
function table(upstreamPort: number, split: boolean): RouteTable {
  const address = `127.0.0.1:${upstreamPort}`;
  const stable = { id: 'ins_stable', release: 'rel_stable', address, weight: 1, state: 'active' as const };
  const canary = { id: 'ins_canary', release: 'rel_canary', address, weight: 1, state: 'active' as const };
  return {
    generation: ++generation,
    apps: {
      bench: {
        hosts: [HOST],
        drainTimeoutMs: 10_000,
        targets: split ? [stable, canary] : [stable],
        split: split ? { release: 'rel_canary', percent: CANARY_PERCENT, sticky: 'cookie' } : null,
      },
    },
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const releaseRequests = (stats: ProxyStats, release: string): number => stats.releases.find((r) => r.release === release)?.requests ?? 0;

export async function measureSplitThroughput(opts: SplitThroughputOptions = {}): Promise<SplitThroughput> {
  const rounds = opts.rounds ?? 6;
  const durationS = opts.durationS ?? 2;
  const warmupS = opts.warmupS ?? 1;
  const shape = { threads: opts.threads ?? 1, connections: opts.connections ?? 16 };
  const log = opts.log ?? (() => {});
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20 || !(durationS > 0 && durationS <= 60) || !(warmupS >= 0 && warmupS <= 30)) {
    throw new Error('measureSplitThroughput: rounds 1..20, durationS in (0, 60], warmupS in [0, 30]');
  }
  if (spawnSync('wrk', ['-v']).error) throw new Error('measureSplitThroughput needs wrk on the PATH (apt-get install wrk)');

  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-split-'));
  cleanup.add('remove the temp directory', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const upstreamPort = await freePort();
    const upstreamLog = join(dir, 'upstream.log');
    const upstream = spawnGroup('upstream', process.execPath, [join(ROOT, 'bench/proxy/upstream.ts'), String(upstreamPort)], { logFile: upstreamLog });
    cleanup.add('stop the upstream', () => upstream.stop());
    await waitForPort(upstream, upstreamPort, upstreamLog);

    const port = await freePort();
    const socket = join(dir, 'proxy.sock');
    const proxyLog = join(dir, 'proxy.log');
    const entry = opts.proxyEntry ?? join(ROOT, 'src/proxy/main.ts');
    const args = ['--max-semi-space-size=2', entry, '--listen', `127.0.0.1:${port}`, '--socket', socket, '--state', join(dir, 'routes.json')];
    const proxy = spawnGroup('proxy', process.execPath, args, { logFile: proxyLog, env: { ...process.env, BERTH_COMPONENT: 'proxy' } });
    cleanup.add('stop the proxy', () => proxy.stop());
    await waitForPort(proxy, port, proxyLog);
    const control = async <T>(method: string, path: string, body?: unknown) => {
      const reply = await unixRequest<T>(socket, method, path, body);
      if (reply.status !== 200) throw new Error(`proxy ${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body;
    };
    await waitFor('the proxy control socket', async () => ((await control('GET', '/info').catch(() => undefined)) ? true : undefined), 10_000);

    const script = join(dir, 'split.lua');
    writeFileSync(script, WRK_SCRIPT);
    const wrk = (seconds: number): Promise<WrkResult> => runWrk({ ...shape, durationS: seconds, url: `http://127.0.0.1:${port}/`, script, signal: opts.signal });
    const results = { single: [] as number[], split: [] as number[] };
    const cpu = { single: [] as number[], split: [] as number[] };
    const ticksPerSecond = clockTicksPerSecond();

    const measure = async (split: boolean, counted = true): Promise<number> => {
      await control('PUT', '/routes', table(upstreamPort, split));
      if (warmupS > 0) await wrk(warmupS);
      const before = await control<ProxyStats>('GET', '/stats');
      const pids = processTree(proxy.pid);
      const ticksBefore = cpuTicks(pids);
      const run = await wrk(durationS);
      const cpuUs = (ticksBetween(ticksBefore, cpuTicks(pids)) / ticksPerSecond) * 1e6 / Math.max(1, run.requests);
      const after = await control<ProxyStats>('GET', '/stats');
      if (run.non2xx > 0 || run.requests === 0) throw new Error(`${split ? 'split' : 'single'} run: ${run.non2xx} non-2xx of ${run.requests} responses`);
      const canary = releaseRequests(after, 'rel_canary') - releaseRequests(before, 'rel_canary');
      const stable = releaseRequests(after, 'rel_stable') - releaseRequests(before, 'rel_stable');
      const share = canary / Math.max(1, canary + stable);
      // wrk cycles the 100 buckets per thread, so the share is 10 % up to the requests in flight at the ends.
      if (split ? Math.abs(share - CANARY_PERCENT / 100) > 0.01 : canary !== 0) throw new Error(`${split ? 'split' : 'single'} run sent ${(share * 100).toFixed(2)} % to the canary`);
      if (counted) {
        (split ? results.split : results.single).push(run.rps);
        (split ? cpu.split : cpu.single).push(cpuUs);
      }
      log(`${counted ? '' : '(warm-up) '}${split ? 'split ' : 'single'}: ${Math.round(run.rps)} req/s, proxy ${cpuUs.toFixed(1)} us CPU/req, p50 ${run.p50Us} us, p99 ${run.p99Us} us${split ? `, ${(share * 100).toFixed(2)} % on the canary` : ''}`);
      return run.rps;
    };

    // The proxy's code is compiled by the JIT while it runs: a first pass of each table is not counted.
    await measure(false, false);
    await measure(true, false);
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      const rps = { single: 0, split: 0 };
      for (const split of order) rps[split ? 'split' : 'single'] = await measure(split);
      ratios.push(rps.split / rps.single);
    }
    const single = median(results.single);
    const split = median(results.split);
    return {
      single: Math.round(single),
      split: Math.round(split),
      ratio: Math.round(median(ratios) * 1000) / 1000,
      cpuUsPerRequest: { single: Math.round(median(cpu.single) * 10) / 10, split: Math.round(median(cpu.split) * 10) / 10 },
    };
  } finally {
    await cleanup.run(log);
  }
}

if (import.meta.main) {
  const log = (line: string) => process.stderr.write(`[bench:split] ${line}\n`);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  measureSplitThroughput({ log, signal: abort.signal }).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      log(`failed: ${(error as Error).stack ?? error}`);
      process.exitCode = 1;
    },
  );
}
