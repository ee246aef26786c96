/**
 * `npm run bench:tls`: berth's proxy terminating TLS against nginx, in front of the same upstream, with
 * the same certificate, in one run: HTTPS keep-alive and h2 requests/s, handshakes, CPU per request,
 * added latency per hop, and a CPU profile of berth under h2 load. Results go to the bench:tls section
 * of BENCHMARKS.md. A benchmark, not a test: it reports numbers and PASS/MISS against the issue's
 * targets, and fails only when it cannot measure.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyStats } from '../src/dataplane/route-table.ts';
import { unixRequest } from '../src/lib/unix-http.ts';
import { prepareBenchRun } from './lib/run.ts';
import { machineInfo } from './lib/machine.ts';
import { writeSection } from './lib/markdown.ts';
import { freePort, spawnGroup, waitForPort } from './lib/procs.ts';
import { clockTicksPerSecond, ensureTools, versionOf } from './lib/tools.ts';
import { startBerthTls } from './tls/berth.ts';
import { makeCertificate } from './tls/cert.ts';
import { runH2load } from './tls/h2load.ts';
import { directLatencyRun, FULL_PLAN, latencyRun, QUICK_PLAN, RUNS, type Kind, type Meter, type Run } from './tls/measure.ts';
import { startNginxTls } from './tls/nginx.ts';
import { probeTls, resumption } from './tls/probe.ts';
import { readProfile, type ProfileSummary } from './tls/profile.ts';
import { renderTlsReport, type TlsMachine, type TlsResults } from './tls/report.ts';
import type { TlsTarget, TlsTargetContext } from './tls/target.ts';
import { wrkSessionReuse } from './tls/wrk-resumption.ts';
import type { WrkResult } from './lib/wrk.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = 'bench.localhost';
const WATCHDOG_MS = 12 * 60_000;
const KINDS: Kind[] = ['h1', 'h2', 'resumed', 'full'];

const log = (line: string) => process.stderr.write(`[bench:tls] ${line}\n`);
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function machine(tools: Record<string, string>, load: TlsMachine['load']): TlsMachine {
  const { docker: _docker, ...base } = machineInfo('');
  return {
    ...base,
    nginx: versionOf(tools.nginx, ['-v']).replace(/^nginx version:\s*/, ''),
    wrk: versionOf(tools.wrk, ['-v']).replace(/\s*Copyright.*$/, ''),
    h2load: versionOf(tools.h2load, ['--version']).replace(/^h2load\s*/, ''),
    openssl: versionOf(tools.openssl, ['version']).replace(/\s*\(Library.*$/, ''),
    load,
  };
}

/** berth once more with `--cpu-prof`, under the h2 load, stopped cleanly so that it writes its profile. */
async function profileBerth(ctx: TlsTargetContext, meter: Meter): Promise<ProfileSummary | { error: string }> {
  const dir = join(ctx.dir, 'profile');
  mkdirSync(dir);
  try {
    const profiled = await startBerthTls(ctx, 'profiled', ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const { threads, clients, streams } = meter.plan.h2;
    await runH2load({ host: HOST, port: profiled.port, threads, clients, streams, durationS: meter.plan.profileS, warmupS: 1, signal: meter.signal });
    await profiled.child.stop(15_000);
    return readProfile(dir, ROOT);
  } catch (error) {
    log(`profile failed: ${(error as Error).message}`);
    return { error: (error as Error).message.split('\n')[0] };
  }
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = loadAverage();
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node ${process.version} cannot strip types; run \`npm run bench:tls\` (Node 24 from node_modules)`);
  const tools = ensureTools(
    [
      { bin: 'wrk', apt: 'wrk' },
      { bin: 'nginx', apt: 'nginx-light' },
      { bin: 'h2load', apt: 'nghttp2-client' },
      { bin: 'openssl', apt: 'openssl' },
    ],
    log,
  );
  const { cleanup, dir, watchdog } = prepareBenchRun({ root: ROOT, name: 'tls', watchdogMs: WATCHDOG_MS, log });

  try {
    const certDir = join(dir, 'cert');
    mkdirSync(certDir);
    const cert = makeCertificate(tools.openssl, certDir, HOST);
    const upstreamPort = await freePort();
    const upstreamLog = join(dir, 'upstream.log');
    const upstream = spawnGroup('upstream', process.execPath, [join(ROOT, 'bench/proxy/upstream.ts'), String(upstreamPort)], { logFile: upstreamLog });
    cleanup.add('stop the upstream', () => upstream.stop());
    await waitForPort(upstream, upstreamPort, upstreamLog);

    const ctx: TlsTargetContext = { dir, upstreamPort, cert, node: process.execPath, tools, cleanup };
    const berth = await startBerthTls(ctx);
    const targets: TlsTarget[] = [await startNginxTls(ctx), berth];
    const resumes = {} as TlsResults['resumes'];
    for (const target of targets) {
      await probeTls(target, HOST, cert.caPem);
      resumes[target.key] = await resumption(target.port, HOST, cert.caPem);
      log(`${target.key} answers over HTTPS and h2 with a verified certificate; resumption: ${JSON.stringify(resumes[target.key])}`);
    }

    const abort = new AbortController();
    cleanup.add('stop the load generators', () => abort.abort());
    const meter: Meter = { plan, host: HOST, dir, ticksPerSecond: clockTicksPerSecond(), signal: abort.signal };
    const wrkSessions = await wrkSessionReuse(cert, dir, abort.signal);
    log(`wrk against a bare node:tls server: ${wrkSessions.handshakes} handshakes, ${wrkSessions.resumed} resumed`);

    const runs = Object.fromEntries(targets.map((t) => [t.key, Object.fromEntries(KINDS.map((k) => [k, [] as Run[]]))])) as TlsResults['runs'];
    // Each measurement runs on the two proxies back to back, in alternating order from round to round, so
    // that both meet the same background load and neither always goes first: the ratios are paired.
    for (let round = 1; round <= plan.rounds; round++) {
      for (const kind of KINDS) {
        for (const target of round % 2 ? targets : [...targets].reverse()) {
          const run = await RUNS[kind](target, meter);
          runs[target.key][kind].push(run);
          log(`round ${round} ${kind} ${target.key}: ${Math.round(run.rps)} req/s, proxy ${run.cpuUs.toFixed(1)} us CPU/req, ${run.errors} errors`);
        }
      }
    }
    const direct = await directLatencyRun(upstreamPort, meter);
    const latency = { direct } as { direct: WrkResult } & Record<TlsTarget['key'], WrkResult>;
    log(`latency direct: p50 ${direct.p50Us} us, p99 ${direct.p99Us} us`);
    for (const target of targets) {
      latency[target.key] = await latencyRun(target, meter);
      log(`latency ${target.key}: p50 ${latency[target.key].p50Us} us, p99 ${latency[target.key].p99Us} us`);
    }
    const stats = (await unixRequest<ProxyStats>(berth.socket, 'GET', '/stats')).body;
    const target = Object.values(stats.targets)[0];
    const berthCounters = { requests: target?.requests ?? 0, status: target?.status ?? {}, unrouted: stats.unrouted };

    log(`profiling berth under h2 load for ${plan.profileS} s`);
    const profile = await profileBerth(ctx, meter);

    const report = renderTlsReport({
      command: process.env.npm_lifecycle_event === 'bench:tls' ? 'npm run bench:tls' : 'node bench/tls.ts',
      startedAt,
      durationS: (performance.now() - t0) / 1000,
      machine: machine(tools, { before: loadBefore, after: loadAverage() }),
      upstream: `\`bench/proxy/upstream.ts\`, one Node ${process.version} \`node:http\` process answering \`hello world\\n\` (12 bytes, Content-Length, keep-alive, keepAliveTimeout 120 s), plain HTTP on 127.0.0.1`,
      certificate: cert.describe,
      host: HOST,
      plan,
      targets,
      runs,
      latency,
      resumes,
      wrkSessions,
      profile,
      berthCounters,
    });
    if (quick) {
      // Numbers from one-second runs must not end up in BENCHMARKS.md.
      process.stdout.write(`${report}\n`);
      log('BENCH_QUICK=1: report printed, BENCHMARKS.md left alone');
    } else {
      writeSection(join(ROOT, 'BENCHMARKS.md'), 'tls', report);
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
