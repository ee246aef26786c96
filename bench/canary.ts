/**
 * `npm run bench:canary`: how fast a failing canary's traffic is back on stable, and what the split costs
 * the proxy. (1) A real daemon (process runtime) deploys a release answering 30 % 5xx as a canary at 50 %
 * while a tight, bounded loop of requests (4 clients, cookies spread over the 100 buckets) notes which
 * release answered each; the time from the deciding check (the denying `canary.verdict` event) to the
 * start of the last request that still reached the canary is the time to 100 % of new requests on stable
 * (target <= 2 s). (2) The proxy's throughput under a 90/10 split against one target, same run
 * (bench/split-throughput.ts; target >= 0.95x). Prints a Markdown table; results go to BENCHMARKS.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appCopy, TestBerth } from '../test/support/berth.ts';
import { startCanaryLoad } from '../test/support/canary-client.ts';
import { median, table } from './lib/markdown.ts';
import { measureSplitThroughput, type SplitThroughput } from './split-throughput.ts';

const ROUNDS = 3;
const log = (line: string) => process.stderr.write(`[bench:canary] ${line}\n`);

const manifest = (version: number, failPercent: number) => `name: bench
health:
  path: /health
  interval: 200ms
  healthy_after: 1
deploy:
  strategy: canary
  drain_timeout: 2s
  standby: 0s
  canary:
    steps:
      - weight: 50
        for: 30s
    interval: 1s
    min_requests: 20
env:
  FAIL_PERCENT: "${failPercent}"
  APP_VERSION: "${version}"
`;

interface Round {
  /** ms from the deciding check to the start of the last request the canary answered (0: none started after it). */
  backOnStableMs: number;
  /** The same, unclamped: negative when the last canary request started before the verdict was written. */
  rawMs: number;
  /** Requests the canary answered that started at or after the deciding check. */
  afterDecision: number;
  requests: number;
  canaryRequests: number;
  errorRate: number;
}

async function abortRound(berth: TestBerth, dir: string, version: number): Promise<Round> {
  const load = startCanaryLoad({ port: berth.httpPort, host: 'bench.localhost', concurrency: 4, maxRequests: 50_000, maxDurationMs: 60_000 });
  try {
    writeFileSync(join(dir, 'berth.yaml'), manifest(version, 30));
    const reply = await berth.upload('bench', dir, '?wait=1');
    if (reply.status !== 202) throw new Error(`upload refused: ${JSON.stringify(reply.body)}`);
    const done = await berth.settle(reply.body.deployment.id, 'finished', 120_000);
    if (done.state !== 'failed' || done.error?.code !== 'CANARY_FAILED') throw new Error(`the canary was not aborted by its analysis: ${done.state} ${JSON.stringify(done.error)}`);
    await new Promise((r) => setTimeout(r, 2500));
    const samples = await load.stop();
    const { events } = (await berth.api('GET', '/v1/apps/bench/events?limit=1000')).body;
    const deny = events.find((e: any) => e.deploymentId === done.id && e.type === 'canary.verdict' && !e.data.allowed);
    const decidedAt = Date.parse(deny.at);
    const canary = samples.filter((s) => s.release === `v${version}`);
    if (canary.length === 0) throw new Error('the canary took no traffic: nothing to measure');
    const lastCanaryStart = Math.max(...canary.map((s) => s.start));
    return {
      backOnStableMs: Math.max(0, lastCanaryStart - decidedAt),
      rawMs: lastCanaryStart - decidedAt,
      afterDecision: canary.filter((s) => s.start >= decidedAt).length,
      requests: samples.length,
      canaryRequests: canary.length,
      errorRate: deny.data.canaryFigures.errorRate,
    };
  } finally {
    await load.stop();
  }
}

async function main(): Promise<void> {
  const berth = await TestBerth.start({ runtime: 'process', https: false });
  const rounds: Round[] = [];
  try {
    const dir = appCopy('canary', { 'berth.yaml': manifest(1, 0) });
    await berth.deploy('bench', dir);
    for (let i = 0; i < ROUNDS; i++) {
      const round = await abortRound(berth, dir, i + 2);
      log(`round ${i + 1}: back on stable ${round.backOnStableMs} ms after the deciding check (last canary request ${round.rawMs} ms from it, ${round.afterDecision} canary requests started after it; ${round.canaryRequests} of ${round.requests} requests on the canary)`);
      rounds.push(round);
    }
  } finally {
    await berth.close();
  }
  let split: SplitThroughput | null = null;
  let splitError = '';
  try {
    split = await measureSplitThroughput({ rounds: 4, durationS: 2, log });
  } catch (error) {
    splitError = (error as Error).message;
    log(`the split throughput was not measured: ${splitError}`);
  }
  const back = rounds.map((r) => r.backOnStableMs);
  const rows: (string | number)[][] = [
    ['deciding check -> 100 % of new requests on stable (median of 3)', `${median(back)} ms`, '<= 2000 ms', median(back) <= 2000 ? 'PASS' : 'MISS'],
    ['same, worst round', `${Math.max(...back)} ms`, '<= 2000 ms', Math.max(...back) <= 2000 ? 'PASS' : 'MISS'],
    ['canary requests started after the deciding check (per round)', rounds.map((r) => r.afterDecision).join(', '), '', ''],
    ['canary error rate at the deciding check (median)', `${(median(rounds.map((r) => r.errorRate)) * 100).toFixed(1)} %`, '30 % injected', ''],
  ];
  if (split) {
    rows.push(['proxy req/s, one target', Math.round(split.single), '', '']);
    rows.push(['proxy req/s, 90/10 cookie split', Math.round(split.split), '', '']);
    rows.push(['split / single (median of paired rounds)', `${split.ratio.toFixed(3)}x`, '>= 0.95x', split.ratio >= 0.95 ? 'PASS' : 'MISS']);
  } else rows.push(['split / single', 'not measured', '>= 0.95x', splitError.slice(0, 80)]);
  process.stdout.write(`## Canary (\`npm run bench:canary\`)\n\n${table(['what', 'measured', 'target', ''], rows)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
