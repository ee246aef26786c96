/**
 * Prometheus' text exposition format 0.0.4, rendered from plain data (pure): one `# HELP` and `# TYPE`
 * per family, base units (seconds, bytes), `_total` counters, label values escaped. The names here are
 * what docs/alerts.yml and users' dashboards are written against: renaming one breaks them.
 */
import type { InstanceState } from '../model/states.ts';
import type { Reading } from './counters.ts';
import { DEPLOY_BOUNDS_S, type DeployTotals } from './deploy-totals.ts';
import { CODE_CLASSES } from './windows.ts';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Every state an instance record can be in: `berth_instance_state` is one-hot over these. */
export const INSTANCE_STATES: readonly InstanceState[] = ['starting', 'serving', 'draining', 'standby', 'stopping', 'stopped', 'failed'];

export interface ExpositionInput {
  build: { version: string; driver: string };
  /** Null when the proxy did not answer its last stats call. */
  connections: number | null;
  series: { app: string; environment: string; release: string; totals: Reading; inflight: number; websockets: number }[];
  instances: {
    app: string;
    environment: string;
    release: string;
    process: string;
    instance: string;
    state: InstanceState;
    restarts: number;
    cpuSeconds: number | null;
    memoryBytes: number | null;
    memoryLimitBytes: number | null;
  }[];
  deployments: DeployTotals[];
}

type Labels = Record<string, string>;

/** Label values: backslash, double quote and line feed escaped (the format's three). */
export const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

const labelText = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

class Family {
  readonly lines: string[];
  constructor(name: string, type: 'counter' | 'gauge' | 'histogram', help: string) {
    this.lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
  }
  sample(name: string, labels: Labels, value: number): void {
    this.lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  }
  /** A histogram's _bucket (cumulative, le in the family's unit), _sum and _count. */
  histogram(name: string, labels: Labels, bounds: readonly number[], cumulative: readonly number[], count: number, sum: number): void {
    bounds.forEach((le, i) => this.sample(`${name}_bucket`, { ...labels, le: formatValue(le) }, cumulative[i]));
    this.sample(`${name}_bucket`, { ...labels, le: '+Inf' }, count);
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, count);
  }
}

const cumulate = (perBucket: readonly number[]): number[] => {
  let run = 0;
  return perBucket.map((n) => (run += n));
};

export function renderExposition(input: ExpositionInput): string {
  const families: Family[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => {
    const f = new Family(name, type, help);
    families.push(f);
    return f;
  };

  family('berth_build_info', 'gauge', 'Always 1: the berth version and runtime driver of this daemon.').sample('berth_build_info', input.build, 1);
  family('berth_proxy_up', 'gauge', '1 when the proxy answered the last stats call, else 0.').sample('berth_proxy_up', {}, input.connections === null ? 0 : 1);
  if (input.connections !== null) family('berth_proxy_open_connections', 'gauge', 'Client connections open at the proxy now.').sample('berth_proxy_open_connections', {}, input.connections);

  const perApp = new Map<string, { websockets: number; inflight: number }>();
  for (const s of input.series) {
    const a = perApp.get(s.app) ?? { websockets: 0, inflight: 0 };
    a.websockets += s.websockets;
    a.inflight += s.inflight;
    perApp.set(s.app, a);
  }
  const ws = family('berth_proxy_websockets_open', 'gauge', 'WebSockets open through the proxy now, per app.');
  const inflight = family('berth_http_requests_in_flight', 'gauge', 'Requests the proxy is forwarding now, per app.');
  for (const [app, a] of perApp) {
    ws.sample('berth_proxy_websockets_open', { app }, a.websockets);
    inflight.sample('berth_http_requests_in_flight', { app }, a.inflight);
  }

  const requests = family('berth_http_requests_total', 'counter', 'Requests through the proxy by status class; code_class "error": answered by the proxy itself (no upstream answer).');
  const duration = family('berth_http_request_duration_seconds', 'histogram', 'Time from the request to the end of the response, through the proxy.');
  const connectErrors = family('berth_upstream_connect_errors_total', 'counter', 'Connections to app instances that failed before a response began.');
  const retries = family('berth_upstream_retries_total', 'counter', 'Requests sent again after an upstream connect failure.');
  const wsOpened = family('berth_proxy_websockets_opened_total', 'counter', 'WebSockets opened through the proxy.');
  for (const s of input.series) {
    const labels = { app: s.app, environment: s.environment, release: s.release };
    for (const c of CODE_CLASSES) requests.sample('berth_http_requests_total', { ...labels, code_class: c }, s.totals.status[c]);
    const bounds = s.totals.bounds.map((ms) => ms / 1000);
    duration.histogram('berth_http_request_duration_seconds', labels, bounds, cumulate(s.totals.buckets), s.totals.buckets.reduce((x, y) => x + y, 0), s.totals.sumMs / 1000);
    connectErrors.sample('berth_upstream_connect_errors_total', labels, s.totals.upstreamErrors);
    retries.sample('berth_upstream_retries_total', labels, s.totals.retries);
    wsOpened.sample('berth_proxy_websockets_opened_total', labels, s.totals.websocketsOpened);
  }

  const restarts = family('berth_instance_restarts_total', 'counter', 'Times the runtime restarted the instance after it exited.');
  const state = family('berth_instance_state', 'gauge', 'The instance\'s state: 1 for the state it is in, 0 for the others.');
  const cpu = family('berth_instance_cpu_seconds_total', 'counter', 'CPU time the instance used (user + system).');
  const memory = family('berth_instance_memory_bytes', 'gauge', 'Memory the instance uses now.');
  const limit = family('berth_instance_memory_limit_bytes', 'gauge', 'The instance\'s memory limit (absent without one).');
  for (const i of input.instances) {
    const labels = { app: i.app, environment: i.environment, release: i.release, process: i.process, instance: i.instance };
    restarts.sample('berth_instance_restarts_total', labels, i.restarts);
    for (const s of INSTANCE_STATES) state.sample('berth_instance_state', { ...labels, state: s }, s === i.state ? 1 : 0);
    if (i.cpuSeconds !== null) cpu.sample('berth_instance_cpu_seconds_total', labels, i.cpuSeconds);
    if (i.memoryBytes !== null) memory.sample('berth_instance_memory_bytes', labels, i.memoryBytes);
    if (i.memoryLimitBytes !== null) limit.sample('berth_instance_memory_limit_bytes', labels, i.memoryLimitBytes);
  }

  const deploys = family('berth_deployments_total', 'counter', 'Finished deployments by kind and outcome (succeeded, failed, interrupted).');
  const deployTime = family('berth_deployment_duration_seconds', 'histogram', 'Time from a deployment\'s creation to its end.');
  for (const d of input.deployments) {
    const labels = { app: d.app, kind: d.kind, outcome: d.outcome };
    deploys.sample('berth_deployments_total', labels, d.count);
    deployTime.histogram('berth_deployment_duration_seconds', labels, DEPLOY_BOUNDS_S, d.cumulative, d.count, d.sumSeconds);
  }
  return families.map((f) => f.lines.join('\n')).join('\n') + '\n';
}
