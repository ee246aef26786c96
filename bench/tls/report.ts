/** Turns the measurements into the bench:tls section of BENCHMARKS.md. */
import { fixed, median, micros, ratio, table, thousands } from '../lib/markdown.ts';
import type { WrkResult } from '../lib/wrk.ts';
import type { Kind, Run, TlsPlan } from './measure.ts';
import type { Resumption } from './probe.ts';
import type { ProfileSummary } from './profile.ts';
import { UPSTREAM_IDLE, type TlsTarget } from './target.ts';
import type { WrkSessions } from './wrk-resumption.ts';

export interface TlsMachine {
  nproc: number;
  cpu: string;
  kernel: string;
  memory: string;
  node: string;
  nginx: string;
  wrk: string;
  h2load: string;
  openssl: string;
  /** /proc/loadavg's 1-minute figure before and after the run: other work on the machine shows here. */
  load: { before: number; after: number };
}

export interface TlsResults {
  command: string;
  startedAt: Date;
  durationS: number;
  machine: TlsMachine;
  upstream: string;
  certificate: string;
  host: string;
  plan: TlsPlan;
  targets: TlsTarget[];
  runs: Record<TlsTarget['key'], Record<Kind, Run[]>>;
  latency: { direct: WrkResult } & Record<TlsTarget['key'], WrkResult>;
  resumes: Record<TlsTarget['key'], Record<'TLSv1.3' | 'TLSv1.2', Resumption>>;
  wrkSessions: WrkSessions;
  profile: ProfileSummary | { error: string };
  berthCounters?: { requests: number; status: Record<string, number>; unrouted: number };
}

/** The issue's targets for berth's TLS path. */
export const TARGETS = { h1VsNginx: 0.5, h2VsNginx: 0.5 };

interface Summary {
  rps: number;
  min: number;
  max: number;
  cpuUs: number;
  cores: number;
  errors: number;
  tcpConnects: number;
  requests: number;
  tls?: Run['tls'];
}

const summarize = (runs: Run[]): Summary => ({
  tcpConnects: median(runs.map((r) => r.tcpConnects)),
  requests: median(runs.map((r) => r.requests)),
  rps: median(runs.map((r) => r.rps)),
  min: Math.min(...runs.map((r) => r.rps)),
  max: Math.max(...runs.map((r) => r.rps)),
  cpuUs: median(runs.map((r) => r.cpuUs)),
  cores: median(runs.map((r) => r.cores)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
  tls: runs.find((r) => r.tls)?.tls,
});

/**
 * berth's requests/s over nginx's, round by round (the two ran back to back), then the median: a slow
 * patch of background load hits both runs of a pair, where a ratio of medians would mix rounds.
 */
export function pairedRatio(r: TlsResults, kind: Kind): { median: number; min: number; max: number; all: number[] } {
  const all = r.runs.berth[kind].map((b, i) => b.rps / r.runs.nginx[kind][i].rps);
  return { median: median(all), min: Math.min(...all), max: Math.max(...all), all };
}

/** A ratio checked against a target, with the digit that decides a near miss (0.496× is not 0.50×). */
const exact = (x: number) => `${fixed(x, 3)}×`;

const passMiss = (ok: boolean) => (ok ? '**PASS**' : '**MISS**');
/** A resumption check as the table shows it. */
const resumed = (x: Resumption) => (!x.resumes ? 'no' : x.again === undefined ? 'yes' : x.again ? 'yes, with a new ticket each time' : 'yes, but no new ticket on resumption');

export function kindLabel(kind: Kind, plan: TlsPlan): string {
  const { h1, h2, resumed, full } = plan;
  switch (kind) {
    case 'h1':
      return `HTTPS keep-alive, HTTP/1.1: \`wrk -t${h1.threads} -c${h1.connections} -d${h1.durationS}s\``;
    case 'h2':
      return `h2: \`h2load -t${h2.threads} -c${h2.clients} -m${h2.streams} -D${h2.durationS} --warm-up-time=${h2.warmupS}\``;
    case 'resumed':
      return `new connection per request, resumed handshake: \`wrk -t${resumed.threads} -c${resumed.connections} -d${resumed.durationS}s -H 'Connection: close'\``;
    case 'full':
      return `new connection per request, full handshake: \`h2load --h1 -t${full.threads} -c${full.clients} -n${full.clients}\``;
  }
}

export function renderTlsReport(r: TlsResults): string {
  const { machine: m, plan } = r;
  const kinds: Kind[] = ['h1', 'h2', 'resumed', 'full'];
  const s = (key: TlsTarget['key'], kind: Kind) => summarize(r.runs[key][kind]);
  const vs = (kind: Kind) => pairedRatio(r, kind).median;
  const ratios = (kind: Kind) => pairedRatio(r, kind).all;
  const checks = [
    { what: `HTTPS keep-alive requests/s ≥ ${TARGETS.h1VsNginx}× nginx`, value: vs('h1'), target: TARGETS.h1VsNginx, ok: vs('h1') >= TARGETS.h1VsNginx, kindRuns: ratios('h1') },
    { what: `h2 requests/s ≥ ${TARGETS.h2VsNginx}× nginx`, value: vs('h2'), target: TARGETS.h2VsNginx, ok: vs('h2') >= TARGETS.h2VsNginx, kindRuns: ratios('h2') },
  ];
  const direct = r.latency.direct;
  const out: string[] = [];
  out.push('## TLS: HTTPS and HTTP/2 throughput, handshakes, CPU per request, latency per hop', '');
  out.push(`Command: \`${r.command}\` (bench/tls.ts), run ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${Math.floor(r.durationS / 60)} min ${Math.round(r.durationS % 60)} s. This section is written by that command.`, '');
  out.push(
    `Machine: ${m.nproc} × ${m.cpu}, ${m.memory} RAM, Linux ${m.kernel}; Node ${m.node}; ${m.nginx}; ${m.wrk}; h2load ${m.h2load}; ${m.openssl}. The load generator, the upstream and the proxy share the ${m.nproc} cores; nothing is pinned. Load average (1 min) ${fixed(m.load.before, 2)} before the run and ${fixed(m.load.after, 2)} after it: anything above ~${m.nproc} means other work shared the machine.`,
    '',
  );
  out.push(`Upstream (the same process behind both proxies): ${r.upstream}. Certificate (the same files for both): ${r.certificate}. Every request is for \`https://${r.host}/\`: SNI and Host are \`${r.host}\`, the socket goes to 127.0.0.1 (wrk through a Lua resolver, h2load through \`--connect-to\`); both proxies route on the name and answer other hosts with 404. Neither load generator verifies the certificate; the probes before the load do (node:https and node:http2 with the run's root).`, '');

  out.push('### Throughput and CPU per request', '');
  out.push(
    `${plan.rounds > 1 ? `Median of ${plan.rounds} rounds. In each round every measurement runs on the two proxies back to back, nginx first in odd rounds and berth first in even ones, and "berth ÷ nginx" is the median of the ${plan.rounds} paired ratios (their range in brackets), so that background load hits both sides of a ratio alike` : 'One round (BENCH_QUICK)'}. wrk runs follow a ${plan.h1.warmupS} s warm-up run; h2load warms up for ${plan.h2.warmupS} s inside its run and counts only the rest. CPU per request is utime + stime from /proc/<pid>/stat over the proxy's whole process tree (nginx's master and ${m.nproc} workers; berth's one proxy process, all its threads) during the measured part, divided by the requests completed. TCP connects counts every connection opened on the machine during the measured part (Tcp ActiveOpens, median of the rounds): the load generator's (${plan.h1.connections} for wrk's keep-alive run; none for h2load's, whose clients connect during its warm-up; one per request in the handshake rows) plus whatever the proxy opens to the upstream.`,
    '',
  );
  out.push(
    table(
      ['measurement', 'nginx req/s', 'berth req/s', 'berth ÷ nginx', 'nginx CPU/req', 'berth CPU/req', 'cores busy (nginx / berth)', 'TCP connects (nginx / berth)', 'errors (nginx / berth)'],
      kinds.map((kind) => {
        const n = s('nginx', kind);
        const b = s('berth', kind);
        const range = (x: Summary) => (plan.rounds > 1 ? ` (${thousands(x.min)}–${thousands(x.max)})` : '');
        const paired = pairedRatio(r, kind);
        const pairedRange = plan.rounds > 1 ? ` (${fixed(paired.min, 2)}–${fixed(paired.max, 2)})` : '';
        return [kindLabel(kind, plan), `${thousands(n.rps)}${range(n)}`, `${thousands(b.rps)}${range(b)}`, `${ratio(paired.median)}${pairedRange}`, micros(n.cpuUs), micros(b.cpuUs), `${fixed(n.cores, 2)} / ${fixed(b.cores, 2)}`, `${thousands(n.tcpConnects)} / ${thousands(b.tcpConnects)}`, `${n.errors} / ${b.errors}`];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
  );
  out.push(
    "What each proxy negotiated with h2load (its h2 run), and whether it resumes sessions (node:tls, per TLS version: a second connection offers the first one's session; with TLS 1.3 a third offers the ticket the resumed second one received, if any):",
    '',
  );
  out.push(
    table(
      ['proxy', 'protocol', 'cipher', 'key exchange', 'ALPN', 'resumes TLS 1.3', 'resumes TLS 1.2'],
      r.targets.map((t) => {
        const tls = s(t.key, 'h2').tls;
        return [t.label, tls?.protocol ?? '–', tls?.cipher ?? '–', tls?.tempKey ?? '–', tls?.alpn ?? '–', resumed(r.resumes[t.key]['TLSv1.3']), resumed(r.resumes[t.key]['TLSv1.2'])];
      }),
      ['l', 'l', 'l', 'l', 'l', 'l', 'l'],
    ),
    '',
  );
  out.push(wrkSessionsText(r), '');

  out.push(`### Added latency per hop: one connection, \`wrk -t1 -c1 -d${plan.latency.durationS}s\``, '');
  out.push('Baseline: the upstream reached directly over plain HTTP. Each proxy is measured over HTTPS (HTTP/1.1, keep-alive), so its added latency includes decrypting the request and encrypting the response on both sides of the hop; one run each, after the throughput rounds.', '');
  out.push(
    table(
      ['configuration', 'req/s', 'p50', 'p99', 'added p50', 'added p99'],
      [
        ['direct (plain HTTP, no proxy)', thousands(direct.rps), micros(direct.p50Us), micros(direct.p99Us), '–', '–'],
        ...r.targets.map((t) => {
          const l = r.latency[t.key];
          return [`${t.label} (HTTPS)`, thousands(l.rps), micros(l.p50Us), micros(l.p99Us), micros(l.p50Us - direct.p50Us), micros(l.p99Us - direct.p99Us)];
        }),
      ],
    ),
    '',
  );

  out.push("### berth's TLS path against the targets", '');
  out.push(
    table(
      ['target', 'measured (median of paired ratios)', 'rounds that met it', 'result'],
      checks.map((c) => [c.what, exact(c.value), `${c.kindRuns.filter((x) => x >= c.target).length} of ${c.kindRuns.length}`, passMiss(c.ok)]),
      ['l', 'r', 'r', 'l'],
    ),
    '',
  );

  out.push(`### Where berth's proxy spends its time under h2 load`, '');
  out.push(profileSection(r), '');
  out.push('### Reading', '');
  out.push(reading(r, checks), '');
  out.push('### Configurations', '');
  for (const t of r.targets) out.push(`- **${t.label}**: ${t.setup}`);
  return out.join('\n');
}

/** What wrk does about sessions, from the reference run, and so what the "resumed handshake" row measures. */
function wrkSessionsText(r: TlsResults): string {
  const w = r.wrkSessions;
  const share = w.handshakes ? w.resumed / w.handshakes : 0;
  const server = w.server.again ? 'hands out a new ticket on resumption' : w.server.resumes ? 'resumes but hands out no new ticket on a resumed handshake' : 'does not resume';
  return [
    `wrk and sessions: wrk keeps one TLS session per connection slot and offers it again when it reconnects. In a 1 s \`Connection: close\` run against a bare node:tls server (which ${server}, by the check above) it made ${w.handshakes} handshakes (${w.protocol}), ${w.resumed} of them resumed (${fixed(share * 100)}%).`,
    'So on a proxy that hands out a new ticket on resumption the "resumed handshake" row is all resumptions; on one that resumes without a new ticket, every other connection resumes and the rest are full handshakes; on one that does not resume, all are full. A TLS 1.3 resumption still does an X25519 exchange but sends no certificate and makes no signature.',
    'h2load\'s clients never offer a session, so the "full handshake" row is a certificate signature and a key exchange per connection on both proxies.',
  ].join(' ');
}

function profileSection(r: TlsResults): string {
  const p = r.profile;
  if ('error' in p) return `No profile: ${p.error}.`;
  const intro = `\`node --cpu-prof\` on a second berth proxy started after the measured runs (so the profiler's cost is in no number above), under \`h2load -c${r.plan.h2.clients} -m${r.plan.h2.streams}\` for ${r.plan.profileS} s. The proxy was busy for ${fixed(p.busyMs)} ms of samples and idle for ${fixed(p.idleMs)} ms; top ${p.top.length} functions by self time, as a share of the busy samples:`;
  const k = p.byKind;
  const pct = (x: number) => `${fixed(x * 100)}%`;
  const note = [
    'A function without a file is one of Node\'s native bindings (a socket write of a string, a close); its self time includes the system calls it makes. "Called from" is the nearest of berth\'s own functions below it on the stack, in most of its samples.',
    `By kind of code, the busy time went ${pct(k.berth)} to berth's own functions (src/), ${pct(k.node)} to Node's JavaScript internals (streams, net, tls, http2), ${pct(k.native)} to native bindings, ${pct(k.gc)} to garbage collection and ${pct(k.program)} to native code outside any JS frame.`,
  ].join(' ');
  return [
    intro,
    '',
    table(
      ['function', 'self time', 'share', 'called from'],
      p.top.map((h) => [`\`${h.where}\``, `${fixed(h.selfMs)} ms`, `${fixed(h.share * 100, 1)}%`, h.via ? `\`${h.via}\`` : '–']),
      ['l', 'r', 'r', 'l'],
    ),
    '',
    note,
  ].join('\n');
}

function reading(r: TlsResults, checks: { what: string; value: number; target: number; ok: boolean }[]): string {
  const s = (key: TlsTarget['key'], kind: Kind) => summarize(r.runs[key][kind]);
  const direct = r.latency.direct;
  const hop = (key: TlsTarget['key']) => r.latency[key].p50Us - direct.p50Us;
  const missed = checks.filter((c) => !c.ok);
  const noisy = (['h1', 'h2'] as Kind[]).flatMap((kind) => r.targets.map((t) => ({ t, kind, sum: s(t.key, kind) }))).reduce((a, b) => ((a.sum.max - a.sum.min) / a.sum.rps >= (b.sum.max - b.sum.min) / b.sum.rps ? a : b));
  const errors = r.targets.flatMap((t) => (['h1', 'h2', 'resumed', 'full'] as Kind[]).map((kind) => ({ t, kind, n: s(t.key, kind).errors }))).filter((e) => e.n > 0);
  const counters = r.berthCounters;
  const busy = Math.max(r.machine.load.before, r.machine.load.after) > r.machine.nproc;
  const cpuRatio = (kind: Kind) => ratio(s('berth', kind).cpuUs / s('nginx', kind).cpuUs);
  // Upstream connections opened during a keep-alive run: what the machine opened less the client's own.
  const upstreamOpens = (key: TlsTarget['key'], kind: 'h1' | 'h2') => Math.max(0, s(key, kind).tcpConnects - (kind === 'h1' ? r.plan.h1.connections : 0));
  // More than one new upstream connection per 100 requests is churn worth a sentence.
  const churn = r.targets.flatMap((t) => (['h1', 'h2'] as const).map((kind) => ({ t, kind, opens: upstreamOpens(t.key, kind), requests: s(t.key, kind).requests }))).filter((c) => c.opens > c.requests / 100);
  const inFlight = r.plan.h2.clients * r.plan.h2.streams;
  const parts = [
    missed.length
      ? `berth misses ${missed.length} of the ${checks.length} targets: ${missed.map((c) => `${c.what} (measured ${exact(c.value)}, ${fixed((1 - c.value / c.target) * 100, 1)}% short of it)`).join('; ')}.`
      : `berth meets both targets: ${checks.map((c) => `${exact(c.value)} of nginx's requests/s (${c.what.split(' ≥')[0]})`).join(', ')}.`,
    `Per request, berth's proxy spent ${micros(s('berth', 'h1').cpuUs)} of CPU over HTTPS keep-alive (${cpuRatio('h1')} nginx's ${micros(s('nginx', 'h1').cpuUs)}) and ${micros(s('berth', 'h2').cpuUs)} over h2 (${cpuRatio('h2')} nginx's ${micros(s('nginx', 'h2').cpuUs)}); a full handshake cost it ${micros(s('berth', 'full').cpuUs)} against ${micros(s('nginx', 'full').cpuUs)} (${cpuRatio('full')}).`,
    churn.length
      ? `Upstream connections: ${churn.map((c) => `${c.t.label} opened ${thousands(c.opens)} during the measured ${c.kind === 'h1' ? 'HTTPS keep-alive' : 'h2'} run (one per ${thousands(c.requests / Math.max(1, c.opens))} requests)`).join('; ')}.${churn.some((c) => c.kind === 'h2') ? ` Over h2 up to ${inFlight} requests are in flight at once (${r.plan.h2.clients} connections × ${r.plan.h2.streams} streams), each on an HTTP/1.1 upstream connection of its own, so a pool that keeps fewer idle connections than that (berth ${UPSTREAM_IDLE} per target, nginx ${UPSTREAM_IDLE} per worker) closes the surplus after each response and opens it again for the next burst.` : ''}`
      : 'Neither proxy opened more than one upstream connection per 100 requests in the keep-alive runs: both pools held.',
    `On ${r.machine.nproc} cores nginx runs ${r.machine.nproc} workers and berth one event loop, while the load generator and the Node upstream want CPU too; requests/s therefore says how much CPU each proxy leaves to the other two as much as how fast it is, and CPU per request is the more portable number.`,
    `One hop added ${micros(hop('berth'))} at p50 through berth and ${micros(hop('nginx'))} through nginx, over a plain-HTTP direct baseline of ${micros(direct.p50Us)}; at one connection the absolute figure depends on where the scheduler puts the three processes, so only differences of tens of microseconds mean much, and each is one ${r.plan.latency.durationS} s run.`,
    r.plan.rounds > 1
      ? `Noise: between rounds the requests/s of ${noisy.t.label}'s ${noisy.kind === 'h1' ? 'HTTPS keep-alive' : 'h2'} runs ranged ${thousands(noisy.sum.min)}–${thousands(noisy.sum.max)} (${fixed(((noisy.sum.max - noisy.sum.min) / noisy.sum.rps) * 100)}% of its median), the widest spread; the paired ratios moved less (HTTPS keep-alive ${fixed(pairedRatio(r, 'h1').min, 2)}–${fixed(pairedRatio(r, 'h1').max, 2)}, h2 ${fixed(pairedRatio(r, 'h2').min, 2)}–${fixed(pairedRatio(r, 'h2').max, 2)}), and a ratio is only as sure as that range${busy ? `. The machine had other work during this run (load average ${fixed(r.machine.load.before, 1)} before it and ${fixed(r.machine.load.after, 1)} after it, on ${r.machine.nproc} cores), which widens every range` : ''}.`
      : 'One round only (BENCH_QUICK): no measure of noise.',
    errors.length ? `Errors: ${errors.map((e) => `${e.t.label} ${e.n} in the ${e.kind} runs`).join('; ')}.` : 'Neither proxy returned a non-2xx response or had a socket error in any run, warm-ups included.',
    counters ? `berth's own counters: ${thousands(counters.requests)} requests forwarded, ${Object.entries(counters.status).map(([k, v]) => `${k} ${thousands(v)}`).join(', ')}, ${counters.unrouted} unrouted.` : '',
  ];
  return parts.filter(Boolean).join(' ');
}
