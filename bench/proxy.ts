/**
 * `npm run bench:proxy`: berth's proxy against a direct connection, nginx, Caddy and a bare undici proxy,
 * all in front of the same trivial upstream, in one run; results go to the bench:proxy section of
 * BENCHMARKS.md. A benchmark, not a test: it reports numbers and PASS/MISS against targets, and fails
 * only when it cannot measure.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyStats } from '../src/dataplane/route-table.ts';
import { unixRequest } from '../src/lib/unix-http.ts';
import { Cleanup } from './lib/cleanup.ts';
import { prepareBenchRun } from './lib/run.ts';
import { writeSection } from './lib/markdown.ts';
import { freePort, spawnGroup, waitForPort } from './lib/procs.ts';
import { clockTicksPerSecond, ensureTools, versionOf } from './lib/tools.ts';
import { measureIdleMemory } from './proxy/idle-memory.ts';
import { FULL_PLAN, latencyRun, probe, QUICK_PLAN, throughputRun, type Meter, type ThroughputRun } from './proxy/measure.ts';
import { renderReport, type BerthCounters, type Machine } from './proxy/report.ts';
import { startBerth } from './proxy/targets/berth.ts';
import { startCaddy } from './proxy/targets/caddy.ts';
import { startNginx } from './proxy/targets/nginx.ts';
import type { Target, TargetContext } from './proxy/targets/target.ts';
import { startUndici } from './proxy/targets/undici.ts';
import type { WrkResult } from './lib/wrk.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = 'bench.localhost';
const WATCHDOG_MS = 10 * 60_000;

const log = (line: string) => process.stderr.write(`[bench:proxy] ${line}\n`);

function machine(tools: Record<string, string>): Machine {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  return {
    nproc: availableParallelism(),
    cpu,
    kernel: release(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    nginx: versionOf(tools.nginx, ['-v']).replace(/^nginx version:\s*/, ''),
    caddy: versionOf(tools.caddy, ['version']).split(' ')[0],
    wrk: versionOf(tools.wrk, ['-v']).replace(/\s*Copyright.*$/, ''),
  };
}

async function berthCounters(socket: string): Promise<BerthCounters> {
  const stats = (await unixRequest<ProxyStats>(socket, 'GET', '/stats')).body;
  const target = Object.values(stats.targets)[0];
  const release = stats.releases?.[0];
  const log = stats.accessLog ?? null;
  return {
    requests: target?.requests ?? 0,
    status: target?.status ?? {},
    unrouted: stats.unrouted,
    releaseRequests: release?.requests,
    accessLog: log && { lines: log.lines, dropped: log.dropped, failures: log.failures, rotations: log.rotations },
  };
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  const startedAt = new Date();
  const t0 = performance.now();
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node ${process.version} cannot strip types; run \`npm run bench:proxy\` (Node 24 from node_modules)`);
  const tools = ensureTools(
    [
      { bin: 'wrk', apt: 'wrk' },
      { bin: 'nginx', apt: 'nginx-light' },
      { bin: 'caddy', apt: 'caddy' },
    ],
    log,
  );
  const { cleanup, dir, watchdog } = prepareBenchRun({ root: ROOT, name: 'proxy', watchdogMs: WATCHDOG_MS, log });

  try {
    // The load phase's processes are stopped before the idle-memory phase, which wants a quiet machine.
    const load = new Cleanup();
    cleanup.add('stop the load-phase processes', () => load.run(log));
    const upstreamPort = await freePort();
    const upstreamLog = join(dir, 'upstream.log');
    const upstream = spawnGroup('upstream', process.execPath, [join(ROOT, 'bench/proxy/upstream.ts'), String(upstreamPort)], { logFile: upstreamLog });
    load.add('stop the upstream', () => upstream.stop());
    await waitForPort(upstream, upstreamPort, upstreamLog);

    const ctx: TargetContext = { dir, upstreamPort, host: HOST, node: process.execPath, tools, cleanup: load };
    const direct: Target = { key: 'direct', label: 'direct (no proxy)', port: upstreamPort, setup: 'wrk straight to the upstream' };
    // berth four times: without counting (the reference), with its counters, with the access log too, and
    // with its counters under a canary split 90/10 (measured against the counters-only one).
    const berth = await startBerth(ctx, 'metrics');
    const berthLog = await startBerth(ctx, 'log');
    const berthSplit = await startBerth(ctx, 'split');
    const targets: Target[] = [direct, await startNginx(ctx), await startCaddy(ctx), await startUndici(ctx), await startBerth(ctx, 'bare'), berth, berthLog, berthSplit];
    for (const target of targets) await probe(target, HOST);
    log(`all ${targets.length} configurations answer; ${plan.rounds} interleaved rounds of throughput follow`);

    const wrkAbort = new AbortController();
    load.add('stop wrk', () => wrkAbort.abort());
    const meter: Meter = { plan, signal: wrkAbort.signal, host: HOST, upstreamPid: upstream.pid, ticksPerSecond: clockTicksPerSecond() };
    const throughput: Record<string, ThroughputRun[]> = Object.fromEntries(targets.map((t) => [t.key, []]));
    for (let round = 1; round <= plan.rounds; round++) {
      for (const target of targets) {
        const run = await throughputRun(target, meter);
        throughput[target.key].push(run);
        const cpu = run.proxyCpuUs === undefined ? '' : `, proxy ${run.proxyCpuUs.toFixed(1)} us CPU/req`;
        log(`round ${round} ${target.key}: ${Math.round(run.wrk.rps)} req/s, p50 ${run.wrk.p50Us} us, p99 ${run.wrk.p99Us} us${cpu}, non-2xx ${run.wrk.non2xx}`);
      }
    }
    const latency: Record<string, WrkResult> = {};
    for (const target of targets) {
      latency[target.key] = await latencyRun(target, meter);
      log(`latency ${target.key}: p50 ${latency[target.key].p50Us} us, p99 ${latency[target.key].p99Us} us`);
    }
    const counters = await berthCounters(berth.socket);
    const logCounters = await berthCounters(berthLog.socket);
    await load.run(log);

    log('idle memory of a real berth daemon');
    const idle = await measureIdleMemory({ idleWaitMs: plan.idleWaitMs, node: process.execPath, root: ROOT, dir, cleanup, log });
    for (const p of idle.processes) log(`idle ${p.role} pid ${p.pid}: RSS ${p.rssKb} kB, PSS ${p.pssKb} kB`);

    const report = renderReport({
      command: process.env.npm_lifecycle_event === 'bench:proxy' ? 'npm run bench:proxy' : 'node bench/proxy.ts',
      startedAt,
      durationS: (performance.now() - t0) / 1000,
      machine: machine(tools),
      upstream: `\`bench/proxy/upstream.ts\`, one Node ${process.version} \`node:http\` process answering \`hello world\\n\` (12 bytes, Content-Length, keep-alive, keepAliveTimeout 120 s)`,
      host: HOST,
      plan,
      targets,
      throughput,
      latency,
      berthCounters: counters,
      berthLogCounters: logCounters,
      idle,
    });
    if (quick) {
      // Numbers from one-second runs must not end up in BENCHMARKS.md.
      process.stdout.write(`${report}\n`);
      log('BENCH_QUICK=1: report printed, BENCHMARKS.md left alone');
    } else {
      writeSection(join(ROOT, 'BENCHMARKS.md'), 'proxy', report);
      log(`wrote BENCHMARKS.md in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await cleanup.run(log);
  }
}

if (import.meta.main) {
  main().catch((error) => {
    log(`failed: ${(error as Error).stack ?? error}`);
    process.exitCode = 1;
  });
}
