/** Turns the measurements into the bench:proxy section of BENCHMARKS.md. */
import type { WrkResult } from '../lib/wrk.ts';
import { fixed, median, micros, ratio, table, thousands } from '../lib/markdown.ts';
import type { IdleMemory } from './idle-memory.ts';
import type { Plan, ThroughputRun } from './measure.ts';
import type { Target } from './targets/target.ts';

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  memory: string;
  node: string;
  nginx: string;
  caddy: string;
  wrk: string;
}

export interface BerthCounters {
  requests: number;
  status: Record<string, number>;
  unrouted: number;
  /** The release's cumulative count (ProxyStats.releases). */
  releaseRequests?: number;
  /** The access log's counters, for the proxy that writes one. */
  accessLog?: { lines: number; dropped: number; failures: number; rotations: number } | null;
}

export interface Results {
  command: string;
  startedAt: Date;
  durationS: number;
  machine: Machine;
  upstream: string;
  host: string;
  plan: Plan;
  targets: Target[];
  throughput: Record<string, ThroughputRun[]>;
  latency: Record<string, WrkResult>;
  berthCounters?: BerthCounters;
  /** The counters of berth's proxy with the access log on. */
  berthLogCounters?: BerthCounters;
  idle: IdleMemory;
}

/** The targets from the issue, for berth's proxy. */
export const TARGETS = { vsNginx: 0.5, vsCaddy: 1.5, hopUs: 80, idleRssMb: 80, vsBare: 0.9, splitVsBerth: 0.95 };

/** What the issue measured on its machine, shown next to this run's numbers. */
const ISSUE = { nginxVsDirect: 0.9, undiciVsNginx: 0.4, caddyVsNginx: 0.3, hopUs: { nginx: 19, undici: 103, caddy: 136 } as Record<string, number> };

interface Summary {
  target: Target;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Us: number;
  p99Us: number;
  p99Spread: number;
  proxyCpuUs?: number;
  proxyCores?: number;
  upstreamCpuUs: number;
  tcpConnects: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  lat: WrkResult;
  hopP50Us?: number;
  hopP99Us?: number;
}

const socketErrors = (w: WrkResult) => w.socketErrors.connect + w.socketErrors.read + w.socketErrors.write + w.socketErrors.timeout;
const optionalMedian = (values: (number | undefined)[]) => (values.some((v) => v === undefined) ? undefined : median(values as number[]));
const spread = (values: number[]) => (Math.max(...values) - Math.min(...values)) / median(values);
const mb = (kb: number) => (kb * 1024) / 1e6;
const passMiss = (ok: boolean) => (ok ? '**PASS**' : '**MISS**');

function summarize(results: Results): Summary[] {
  const direct = results.latency.direct;
  return results.targets.map((target) => {
    const runs = results.throughput[target.key];
    const rps = runs.map((r) => r.wrk.rps);
    const lat = results.latency[target.key];
    const isDirect = target.key === 'direct';
    return {
      target,
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p50Us: median(runs.map((r) => r.wrk.p50Us)),
      p99Us: median(runs.map((r) => r.wrk.p99Us)),
      p99Spread: spread(runs.map((r) => r.wrk.p99Us)),
      proxyCpuUs: optionalMedian(runs.map((r) => r.proxyCpuUs)),
      proxyCores: optionalMedian(runs.map((r) => r.proxyCores)),
      upstreamCpuUs: median(runs.map((r) => r.upstreamCpuUs)),
      tcpConnects: median(runs.map((r) => r.tcpConnects)),
      requests: median(runs.map((r) => r.wrk.requests)),
      // Warm-up runs count here too: an error is an error whenever it happens.
      non2xx: runs.reduce((n, r) => n + r.wrk.non2xx + r.warmup.non2xx, 0) + lat.non2xx,
      socketErrors: runs.reduce((n, r) => n + socketErrors(r.wrk) + socketErrors(r.warmup), 0) + socketErrors(lat),
      lat,
      hopP50Us: isDirect ? undefined : lat.p50Us - direct.p50Us,
      hopP99Us: isDirect ? undefined : lat.p99Us - direct.p99Us,
    };
  });
}

export function renderReport(results: Results): string {
  const rows = summarize(results);
  const by = (key: string) => rows.find((r) => r.target.key === key)!;
  const nginx = by('nginx');
  const caddy = by('caddy');
  const berth = by('berth');
  const { machine: m, idle, plan } = results;
  const { throughput: tp, latency: lt } = plan;
  const rssKb = idle.processes.reduce((n, p) => n + p.rssKb, 0);
  const pssKb = idle.processes.reduce((n, p) => n + p.pssKb, 0);
  const checks = [
    { id: 'vsNginx', what: `throughput ≥ ${TARGETS.vsNginx}× nginx`, value: ratio(berth.rps / nginx.rps), ok: berth.rps / nginx.rps >= TARGETS.vsNginx },
    { id: 'vsCaddy', what: `throughput ≥ ${TARGETS.vsCaddy}× Caddy`, value: ratio(berth.rps / caddy.rps), ok: berth.rps / caddy.rps >= TARGETS.vsCaddy },
    { id: 'hop', what: `≤ ${TARGETS.hopUs} us added per hop (p50, 1 connection)`, value: micros(berth.hopP50Us), ok: berth.hopP50Us! <= TARGETS.hopUs },
    { id: 'memory', what: `idle RSS of all berth processes ≤ ${TARGETS.idleRssMb} MB`, value: `${fixed(mb(rssKb), 1)} MB`, ok: mb(rssKb) <= TARGETS.idleRssMb },
    ...observabilityChecks(rows),
    ...splitChecks(rows),
  ];
  const has = (key: string) => rows.some((r) => r.target.key === key);

  const out: string[] = [];
  out.push(`## Proxy: throughput, CPU per request, latency, idle memory`);
  out.push('');
  out.push(`Command: \`${results.command}\` (bench/proxy.ts), run ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${Math.floor(results.durationS / 60)} min ${Math.round(results.durationS % 60)} s. This section is written by that command.`);
  out.push('');
  out.push(`Machine: ${m.nproc} × ${m.cpu}, ${m.memory} RAM, Linux ${m.kernel}; Node ${m.node}; ${m.nginx}; Caddy ${m.caddy}; ${m.wrk}. wrk, the upstream and the proxy share the ${m.nproc} cores; nothing is pinned.`);
  out.push('');
  out.push(`Upstream (the same process for every configuration): ${results.upstream}. Every request carries \`Host: ${results.host}\`; every proxy routes on it and answers other hosts with 404 (Caddy: empty 200).`);
  out.push('');

  out.push(`### Throughput: \`wrk -t${tp.threads} -c${tp.connections} -d${tp.durationS}s --latency\``);
  out.push('');
  out.push(`Median of ${plan.rounds} runs, each after a ${tp.warmupS} s warm-up, interleaved across configurations (${results.targets.map((t) => t.key).join(' → ')}, ${plan.rounds} times). CPU per request is utime+stime from /proc/<pid>/stat over the proxy's whole process tree (all threads, nginx workers included) during the measured run, divided by the requests completed. TCP connects counts every connection opened on the machine during the run (Tcp ActiveOpens): wrk's ${tp.connections}, plus whatever the proxy opens to the upstream.`);
  out.push('');
  out.push(
    table(
      ['configuration', 'req/s', 'runs min–max', 'vs nginx', 'vs Caddy', 'p50', 'p99', 'proxy CPU/req', 'proxy cores busy', 'upstream CPU/req', 'TCP connects', 'non-2xx', 'socket errors'],
      rows.map((r) => [
        r.target.label,
        thousands(r.rps),
        `${thousands(r.rpsMin)}–${thousands(r.rpsMax)}`,
        ratio(r.rps / nginx.rps),
        ratio(r.rps / caddy.rps),
        micros(r.p50Us),
        micros(r.p99Us),
        micros(r.proxyCpuUs),
        fixed(r.proxyCores, 2),
        micros(r.upstreamCpuUs),
        thousands(r.tcpConnects),
        r.non2xx,
        r.socketErrors,
      ]),
    ),
  );
  out.push('');
  out.push(`### Added latency per hop: \`wrk -t${lt.threads} -c${lt.connections} -d${lt.durationS}s --latency\``);
  out.push('');
  out.push('One run per configuration after the throughput rounds. Added latency = this configuration\'s percentile minus direct\'s.');
  out.push('');
  out.push(
    table(
      ['configuration', 'req/s', 'p50', 'p99', 'added p50', 'added p99'],
      rows.map((r) => [r.target.label, thousands(r.lat.rps), micros(r.lat.p50Us), micros(r.lat.p99Us), micros(r.hopP50Us), micros(r.hopP99Us)]),
    ),
  );
  out.push('');

  out.push(`### berth's proxy against the targets`);
  out.push('');
  out.push(table(['target', 'measured', 'result'], checks.map((c) => [c.what, c.value, passMiss(c.ok)])));
  out.push('');
  out.push("The issue's reference measurements (its machine) next to this run's:");
  out.push('');
  const refRows: string[][] = [
    ['nginx vs direct (throughput)', ratio(ISSUE.nginxVsDirect), ratio(nginx.rps / by('direct').rps)],
    ...(has('undici') ? [['bare undici proxy vs nginx', ratio(ISSUE.undiciVsNginx), ratio(by('undici').rps / nginx.rps)]] : []),
    ['Caddy vs nginx', ratio(ISSUE.caddyVsNginx), ratio(caddy.rps / nginx.rps)],
    ...['nginx', 'undici', 'caddy'].filter(has).map((k) => [`added per hop, ${by(k).target.label}`, micros(ISSUE.hopUs[k]), micros(by(k).hopP50Us)]),
  ];
  out.push(table(['reference', 'issue', 'this run'], refRows));
  out.push('');

  out.push('### Idle memory of a berth installation');
  out.push('');
  out.push(`Started with \`${idle.command}\`${idle.fallbackReason ? ` (the CLI's \`server\` command failed: ${idle.fallbackReason})` : ' (the CLI, as a user starts it)'}, measured ${plan.idleWaitMs / 1000} s after \`<data>/run/api.json\` appeared, with no app deployed, then stopped with \`POST /v1/system/shutdown {"stopApps":true}\`. From /proc/<pid>/smaps_rollup; 1 MB = 10^6 bytes.`);
  out.push('');
  out.push(
    table(
      ['process', 'pid', 'command', 'RSS', 'PSS'],
      [
        ...idle.processes.map((p) => [p.role, p.pid, `\`${p.command}\``, `${fixed(mb(p.rssKb), 1)} MB`, `${fixed(mb(p.pssKb), 1)} MB`]),
        ['**all berth processes**', '', '', `**${fixed(mb(rssKb), 1)} MB**`, `**${fixed(mb(pssKb), 1)} MB**`],
        ...idle.references.map((p) => [`_${p.role}_`, p.pid, `\`${p.command}\``, `${fixed(mb(p.rssKb), 1)} MB`, `${fixed(mb(p.pssKb), 1)} MB`]),
      ],
      ['l', 'r', 'l', 'r', 'r'],
    ),
  );
  out.push('');
  out.push(
    "RSS counts every resident page a process maps, so the pages of the Node binary and shared libraries are counted in full in each berth process; PSS divides each shared page among all the processes that map it, so the RSS sum overstates berth's footprint and the PSS sum is close to it (slightly under, since this benchmark's own Node process shares the binary too). The two reference processes, measured after berth stopped, side by side and after the same idle time, show what Node 24 costs before any berth code runs: an empty process, and one whose entry file goes through Node's type stripping. berth runs from dist/ (its sources with types stripped ahead of time by `npm run build`, which `npm ci` runs), so its processes do not load the type stripper; run from src/ (`node src/cli/main.ts server`) each would use about 30 MB more.",
  );
  if (idle.problems.length) out.push('', `Shutdown problems: ${idle.problems.join('; ')}.`);
  out.push('');

  out.push('### Reading');
  out.push('');
  out.push(reading(rows, results, checks));
  out.push('');
  out.push('### Configurations');
  out.push('');
  for (const t of results.targets) out.push(`- **${t.label}**: ${t.setup}`);
  return out.join('\n');
}

/**
 * Issue 11: with metrics and the access log on, throughput at least 0.9× berth's proxy without them, in the
 * same run. The reference is the proxy started with `--stats off` (no status or latency counting, no access log).
 */
function observabilityChecks(rows: Summary[]): { id: string; what: string; value: string; ok: boolean }[] {
  const bare = rows.find((r) => r.target.key === 'berth-bare');
  if (!bare) return [];
  return (['berth', 'berth-log'] as const).flatMap((key) => {
    const row = rows.find((r) => r.target.key === key);
    if (!row) return [];
    const share = row.rps / bare.rps;
    return [{ id: key, what: `${row.target.label}: throughput ≥ ${TARGETS.vsBare}× ${bare.target.label}`, value: ratio(share), ok: share >= TARGETS.vsBare }];
  });
}

/** Issue 12: a canary split costs at most 5 % of throughput against the same proxy without one, in the same run. */
function splitChecks(rows: Summary[]): { id: string; what: string; value: string; ok: boolean }[] {
  const berth = rows.find((r) => r.target.key === 'berth');
  const split = rows.find((r) => r.target.key === 'berth-split');
  if (!berth || !split) return [];
  const share = split.rps / berth.rps;
  return [{ id: 'split', what: `${split.target.label}: throughput ≥ ${TARGETS.splitVsBerth}× ${berth.target.label}`, value: ratio(share), ok: share >= TARGETS.splitVsBerth }];
}

function reading(rows: Summary[], results: Results, checks: { id: string; what: string; ok: boolean }[]): string {
  const { throughput: tp, latency: lt, rounds } = results.plan;
  const by = (key: string) => rows.find((r) => r.target.key === key)!;
  const nginx = by('nginx');
  const caddy = by('caddy');
  const berth = by('berth');
  const relSpread = (r: Summary) => (r.rpsMax - r.rpsMin) / r.rps;
  const noisiest = (list: Summary[]) => list.reduce((a, b) => (relSpread(a) >= relSpread(b) ? a : b));
  const proxies = rows.filter((r) => r.target.pid !== undefined);
  const worst = noisiest(rows);
  const worstProxy = noisiest(proxies);
  const p99Range = (r: Summary) => {
    const p99s = results.throughput[r.target.key].map((run) => run.wrk.p99Us);
    return `${micros(Math.min(...p99s))}–${micros(Math.max(...p99s))}`;
  };
  const worstP99 = rows.reduce((a, b) => (a.p99Spread >= b.p99Spread ? a : b));
  // More than one new connection per 100 requests is churn worth a sentence; nginx's rotation every 1000 requests is not.
  const churners = proxies.filter((r) => r.tcpConnects - tp.connections > r.requests / 100);
  const missed = checks.filter((c) => !c.ok).map((c) => c.what);
  const errors = rows.filter((r) => r.non2xx > 0 || r.socketErrors > 0);
  const counters = results.berthCounters;
  const idle = results.idle;
  const [emptyNode, emptyTs] = idle.references;
  const range = (r: Summary) => `${thousands(r.rpsMin)}–${thousands(r.rpsMax)}`;
  const parts = [
    `On ${results.machine.nproc} cores, wrk's ${tp.threads} threads, the Node upstream and the proxy compete for the same CPUs, so requests/s measures how much CPU a proxy leaves to the other two as much as its own speed (that is why direct is so far ahead of every proxy here); CPU per request is the more portable number.`,
    `berth's proxy spent ${micros(berth.proxyCpuUs)} of CPU per request, against ${micros(nginx.proxyCpuUs)} for nginx (${ratio(berth.proxyCpuUs! / nginx.proxyCpuUs!)}) and ${micros(caddy.proxyCpuUs)} for Caddy (${ratio(berth.proxyCpuUs! / caddy.proxyCpuUs!)})${rows.some((r) => r.target.key === 'undici') ? ` and ${micros(by('undici').proxyCpuUs)} for the bare undici proxy` : ''}, and one berth hop added ${micros(berth.hopP50Us)} at p50 (nginx ${micros(nginx.hopP50Us)}, Caddy ${micros(caddy.hopP50Us)}).`,
    missed.length ? `It misses ${missed.length} of the ${checks.length} targets: ${missed.join('; ')}.` : `It meets all ${checks.length} targets.`,
    emptyNode && emptyTs && checks.some((c) => c.id === 'memory' && !c.ok)
      ? `On memory: an empty Node 24 process is already ${fixed(mb(emptyNode.rssKb), 1)} MB RSS and one whose entry is a 2-line .ts file ${fixed(mb(emptyTs.rssKb), 1)} MB (loading the type stripper alone, which berth avoids by running from dist/), so two Node processes cannot meet an RSS sum of ${TARGETS.idleRssMb} MB whatever berth does; by PSS, which counts shared pages once, berth uses ${fixed(mb(idle.processes.reduce((n, p) => n + p.pssKb, 0)), 1)} MB.`
      : '',
    churners.length
      ? `${churners.map((r) => `${r.target.label} opened ${thousands(r.tcpConnects - tp.connections)} upstream connections per run (one per ${thousands(r.requests / Math.max(1, r.tcpConnects - tp.connections))} requests)`).join('; ')}; those reconnects cost the proxy and the upstream CPU (see upstream CPU/req).`
      : '',
    `Noise: between the ${rounds} interleaved rounds requests/s ranged ${range(worstProxy)} for the noisiest proxy (${worstProxy.target.label}, ${fixed(relSpread(worstProxy) * 100)}% of its median)${worst !== worstProxy ? ` and ${range(worst)} for ${worst.target.label}` : ''}, so ratios closer than that are not significant (and an occasional round comes out far lower when something else takes a core for a few seconds, which the median of ${rounds} absorbs); p99 at ${tp.connections} connections is mostly queueing behind saturated CPUs and ranged ${p99Range(worstP99)} for ${worstP99.target.label}, so read it as an order of magnitude.`,
    `At one connection the absolute p50 depends on whether the scheduler puts wrk, proxy and upstream on the same core (a cross-core wake-up is slow in a VM), so only the difference to direct means much, and each comes from a single ${lt.durationS} s run.`,
    errors.length
      ? `Errors: ${errors.map((r) => `${r.target.label} had ${r.non2xx} non-2xx responses and ${r.socketErrors} socket errors`).join('; ')}.`
      : 'No configuration returned a non-2xx response or had a socket error in any run, warm-ups included.',
    counters ? `berth's own counters agree: ${thousands(counters.requests)} requests, ${Object.entries(counters.status).map(([k, v]) => `${k} ${thousands(v)}`).join(', ')}, ${counters.unrouted} unrouted${counters.releaseRequests === undefined ? '' : `; its release counted ${thousands(counters.releaseRequests)}`}.` : '',
    logLine(results.berthLogCounters),
  ];
  return parts.filter(Boolean).join(' ');
}

function logLine(counters: BerthCounters | undefined): string {
  const log = counters?.accessLog;
  if (!counters || !log) return '';
  return `With the access log on, the proxy counted ${thousands(counters.requests)} requests and wrote ${thousands(log.lines)} lines (${thousands(log.dropped)} dropped, ${log.failures} failed writes, ${log.rotations} rotations at 64 MB).`;
}
