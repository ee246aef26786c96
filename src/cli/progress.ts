/**
 * Deployment progress as data: a model folded from the deployment's events (pure reducers, time passed
 * in), rendered either as a live block for terminals or as plain lines for logs and CI. `berth deploy`,
 * `rollback`, `env set/unset` and `up` all show progress through this one module (see ./follow.ts).
 */
import type { EventOf } from '../model/events.ts';
import type { ApiEvent, Deployment, DeploymentState } from '../model/wire.ts';
import { formatBytes, formatElapsed, formatError, shortId } from './format.ts';
import { stripAnsi, truncateAnsi, type Style } from './io.ts';

export type StepName = 'upload' | 'build' | 'checks' | 'release' | 'start' | 'health' | 'switchChecks' | 'canary' | 'switch';
export type StepStatus = 'pending' | 'active' | 'done' | 'failed' | 'skipped';

export const STEP_ORDER: readonly StepName[] = ['upload', 'build', 'start', 'health', 'switch'];
// Both check steps read `checks`: the build's come before start, the switch's after the health check.
export const STEP_LABELS: Record<StepName, string> = { upload: 'upload', build: 'build', checks: 'checks', release: 'release', start: 'start', health: 'health check', switchChecks: 'checks', canary: 'canary', switch: 'switch' };
/** Build output lines shown under the running build step. */
export const BUILD_TAIL_LINES = 5;

export interface Step {
  name: StepName;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  detail?: string;
}

export interface Progress {
  steps: Step[];
  buildTail: string[];
  /** Waiting for the server to start working on it (another deploy of the app may be running). */
  queued: boolean;
  /** Latest probe result per instance, shown as the health step's detail. */
  probes: Record<string, string>;
  healthyAfter?: number;
  outcome?: 'succeeded' | 'failed' | 'interrupted';
  /** The check step running (berth.yaml `checks:`): each finished check with its duration, the running one and its last line. */
  checks?: { step: 'checks' | 'switchChecks'; results: string[]; running?: string; line?: string };
}

/** Which step a deployment state belongs to; `draining` is the tail of the switch. */
const STATE_STEP: Partial<Record<DeploymentState, StepName>> = { building: 'build', releasing: 'release', starting: 'start', verifying: 'health', rolling: 'start', canary: 'canary', switching: 'switch', draining: 'switch' };

/** The release step (services, release command) is shown only for deployments that have one. */
function withReleaseStep(p: Progress): Progress {
  if (p.steps.some((step) => step.name === 'release')) return p;
  const at = p.steps.findIndex((step) => step.name === 'start');
  const steps = [...p.steps];
  steps.splice(at === -1 ? steps.length : at, 0, { name: 'release', status: 'pending' });
  return { ...p, steps };
}

/** The canary step is shown only for deployments that run one, just before the switch. */
function withCanaryStep(p: Progress): Progress {
  if (p.steps.some((step) => step.name === 'canary')) return p;
  const at = p.steps.findIndex((step) => step.name === 'switch');
  const steps = [...p.steps];
  steps.splice(at === -1 ? steps.length : at, 0, { name: 'canary', status: 'pending' });
  return { ...p, steps };
}

/** A check step is shown only for deployments that run checks: the build's after build, the switch's after health. */
function withCheckStep(p: Progress, name: 'checks' | 'switchChecks'): Progress {
  if (p.steps.some((step) => step.name === name)) return p;
  const after = p.steps.findIndex((step) => step.name === (name === 'checks' ? 'build' : 'health'));
  const steps = [...p.steps];
  steps.splice(after === -1 ? steps.length : after + 1, 0, { name, status: 'pending' });
  return { ...p, steps };
}

/** The check step's detail: `lint 1.2s, test 3.4s; smoke: <its last line>`. */
function checksDetail(c: NonNullable<Progress['checks']>): string {
  const running = c.running ? `${c.running}${c.line ? `: ${c.line}` : ' running'}` : '';
  return [c.results.join(', '), running].filter(Boolean).join('; ');
}

function applyCheck(p: Progress, event: Extract<ApiEvent, { type: 'check.started' | 'check.log' | 'check.passed' | 'check.failed' }>, now: number): Progress {
  const name = event.type === 'check.log' ? p.checks?.step : event.data.when === 'build' ? 'checks' : 'switchChecks';
  if (!name) return p;
  const base = withCheckStep(p, name);
  const pending = base.steps.find((step) => step.name === name)?.status === 'pending';
  const started = pending ? activate(base, name, now) : base;
  const before = started.checks?.step === name ? started.checks : { step: name, results: [] };
  const checks =
    event.type === 'check.started'
      ? { step: name, results: before.results, running: event.data.check }
      : event.type === 'check.log'
        ? { ...before, line: event.message }
        : { step: name, results: [...before.results, event.type === 'check.passed' ? `${event.data.check} ${formatElapsed(event.data.durationMs)}` : `${event.data.check} failed (${event.data.reason})`] };
  return updateStep({ ...started, checks }, name, (step) => ({ ...step, detail: checksDetail(checks) }));
}

export function newProgress(options: { upload: boolean; now: number; healthyAfter?: number }): Progress {
  const steps: Step[] = STEP_ORDER.filter((name) => options.upload || name !== 'upload').map((name) => ({ name, status: 'pending' }));
  if (options.upload) steps[0] = { name: 'upload', status: 'active', startedAt: options.now };
  return { steps, buildTail: [], queued: false, probes: {}, ...(options.healthyAfter ? { healthyAfter: options.healthyAfter } : {}) };
}

const updateStep = (p: Progress, name: StepName, change: (step: Step) => Step): Progress => ({
  ...p,
  steps: p.steps.map((step) => (step.name === name ? change(step) : step)),
});

export function uploadProgress(p: Progress, bytesSent: number): Progress {
  return updateStep(p, 'upload', (step) => ({ ...step, detail: `${formatBytes(bytesSent)} sent` }));
}

export function uploadDone(p: Progress, summary: { files: number; bytes: number }, now: number): Progress {
  return updateStep(p, 'upload', (step) => ({ ...step, status: 'done', endedAt: now, detail: filesSummary(summary.files, summary.bytes) }));
}

export function filesSummary(files: number, bytes: number): string {
  return `${files} ${files === 1 ? 'file' : 'files'}, ${formatBytes(bytes)}`;
}

/** Starts `name`: steps before it that ran are done, steps before it that never ran were skipped. */
function activate(p: Progress, name: StepName, now: number): Progress {
  const index = p.steps.findIndex((step) => step.name === name);
  if (index === -1) return p;
  const steps = p.steps.map((step, i): Step => {
    if (i < index) {
      if (step.status === 'active') return { ...step, status: 'done', endedAt: now };
      if (step.status === 'pending') return { ...step, status: 'skipped' };
      return step;
    }
    if (i === index && step.status === 'pending') return { ...step, status: 'active', startedAt: now };
    return step;
  });
  return { ...p, steps, queued: false };
}

function finish(p: Progress, outcome: NonNullable<Progress['outcome']>, now: number): Progress {
  const steps = p.steps.map((step): Step => {
    if (step.status === 'active') return { ...step, status: outcome === 'succeeded' ? 'done' : 'failed', endedAt: now };
    if (step.status === 'pending' && outcome === 'succeeded') return { ...step, status: 'skipped' };
    return step;
  });
  return { ...p, steps, outcome, queued: false };
}

/** `needed` is berth.yaml's healthy_after, as the CLI read it (the server's message has it too). */
function healthText(data: EventOf<'health.probe'>['data'], needed: number | undefined): string {
  if (data.ok) return `ok ${data.consecutive}${needed ? `/${needed}` : ''}`;
  const why = data.status !== undefined ? `HTTP ${data.status}` : (data.error ?? 'no answer');
  return `failing (${why})`;
}

/** The server's probe message (`web.0 ok (1/2)`) says it best; without one, build it from the data. */
function probeText(event: EventOf<'health.probe'>, healthyAfter: number | undefined): string {
  if (event.message) return event.message;
  return `${shortId(event.data.instance)} ${healthText(event.data, healthyAfter)}`;
}

export function applyEvent(p: Progress, event: ApiEvent, now: number): Progress {
  switch (event.type) {
    case 'deploy.queued':
      return p.steps.some((step) => step.status === 'active' && step.name !== 'upload') ? p : { ...p, queued: true };
    case 'deploy.state': {
      const state: DeploymentState = event.data.state;
      if (state === 'queued') return { ...p, queued: true };
      if (state === 'succeeded' || state === 'failed' || state === 'interrupted') return finish(p, state, now);
      if (state === 'checking') {
        // The same state twice: after the build, and after the health check (before the switch).
        const health = p.steps.find((step) => step.name === 'health');
        const name = health && health.status !== 'pending' ? 'switchChecks' : 'checks';
        return activate(withCheckStep(p, name), name, now);
      }
      const step = STATE_STEP[state];
      const base = state === 'releasing' ? withReleaseStep(p) : state === 'canary' ? withCanaryStep(p) : p;
      let next = step ? activate(base, step, now) : base;
      if (state === 'draining') next = updateStep(next, 'switch', (s) => ({ ...s, detail: `${s.detail ? `${s.detail}; ` : ''}draining the previous release` }));
      return next;
    }
    case 'release.log':
    case 'service.ready':
      return updateStep(withReleaseStep(p), 'release', (step) => ({ ...step, detail: event.message }));
    case 'build.log': {
      const started = p.steps.find((step) => step.name === 'build')?.status === 'pending' ? activate(p, 'build', now) : p;
      return { ...started, buildTail: [...started.buildTail, event.message].slice(-BUILD_TAIL_LINES) };
    }
    case 'check.started':
    case 'check.log':
    case 'check.passed':
    case 'check.failed':
      return applyCheck(p, event, now);
    case 'checks.skipped':
      // Shown, not hidden: a deploy without its checks should be seen as one.
      return updateStep(withCheckStep(p, 'checks'), 'checks', (step) => ({ ...step, status: 'skipped', detail: `skipped (--skip-checks): ${event.data.checks.join(', ')}` }));
    case 'health.probe': {
      const probes = { ...p.probes, [event.data.instance]: probeText(event, p.healthyAfter) };
      return updateStep({ ...p, probes }, 'health', (step) => ({ ...step, detail: Object.values(probes).join(', ') }));
    }
    case 'image.pull':
    case 'policy.verdict':
    case 'instance.started':
    case 'instance.exited':
    case 'instance.restarted':
    case 'instance.crashloop':
    // A rolling deploy's `web: batch 2/3 replaced: 1 started, 1 retired`.
    case 'deploy.batch': {
      // What the new instances do while they start shows under the step that is waiting for them.
      const active = p.steps.find((step) => step.status === 'active');
      return active && event.message ? updateStep(p, active.name, (step) => ({ ...step, detail: event.message })) : p;
    }
    case 'deploy.switched': {
      // Traffic has moved: that is the end of the wait (the old release drains on its own).
      return finish(
        updateStep(activate(p, 'switch', now), 'switch', (step) => ({ ...step, detail: `traffic now goes to v${event.data.version}` })),
        'succeeded',
        now,
      );
    }
    case 'canary.step':
    case 'canary.verdict':
    case 'canary.aborted':
    case 'canary.promoted':
      // `step 2/3: 50 % of traffic to v5 for 60 s`, then each verdict with its numbers, live.
      return updateStep(withCanaryStep(p), 'canary', (step) => ({ ...step, detail: event.message }));
    case 'deploy.succeeded':
      return finish(p, 'succeeded', now);
    case 'deploy.failed':
      return finish(p, 'failed', now);
    case 'deploy.interrupted':
      return finish(p, 'interrupted', now);
    default:
      return p;
  }
}

/** Build output and server messages may carry their own colours, tabs or carriage returns (progress bars); in a redrawn block they would break the layout. */
export function sanitizeLine(text: string): string {
  return stripAnsi(text).replace(/\t/g, '  ').replace(/[\x00-\x1f\x7f]/g, ' ');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The live block: one line per step, the running build's last lines dimmed under it. */
export function renderLive(p: Progress, now: number, style: Style, width = 80): string[] {
  const lines: string[] = [];
  const spinner = SPINNER[Math.floor(now / 80) % SPINNER.length];
  const labelWidth = Math.max(...Object.values(STEP_LABELS).map((label) => label.length));
  if (p.queued && !p.outcome) lines.push(`${style.cyan(spinner)} ${style.dim('queued: waiting for the server to start this deployment')}`);
  for (const step of p.steps) {
    // A skipped step is left out, unless it says why (checks skipped with --skip-checks).
    if (step.status === 'skipped' && !step.detail) continue;
    const icon =
      step.status === 'active' ? style.cyan(spinner) : step.status === 'done' ? style.green('✔') : step.status === 'failed' ? style.red('✖') : step.status === 'skipped' ? style.yellow('-') : style.dim('·');
    const elapsed = step.startedAt === undefined ? '' : formatElapsed((step.endedAt ?? now) - step.startedAt);
    const label = step.status === 'pending' ? style.dim(STEP_LABELS[step.name]) : STEP_LABELS[step.name];
    const text = `${icon} ${label}${' '.repeat(labelWidth - STEP_LABELS[step.name].length)}  ${style.dim(elapsed.padStart(5))}${step.detail ? `  ${sanitizeLine(step.detail)}` : ''}`;
    lines.push(text.trimEnd());
    if (step.name === 'build' && step.status === 'active') {
      for (const line of p.buildTail) lines.push(style.dim(`    ${sanitizeLine(line)}`));
    }
  }
  return lines.map((line) => truncateAnsi(line, width));
}

/** What plain mode prints for one event; terminal events print nothing, the outcome says it. */
export function plainLines(event: ApiEvent, options: { healthyAfter?: number } = {}): string[] {
  switch (event.type) {
    case 'deploy.queued':
      return ['state: queued'];
    case 'deploy.state':
      return !['succeeded', 'failed', 'interrupted'].includes(event.data.state) ? [`state: ${event.data.state}`] : [];
    case 'build.log':
      return [`build: ${event.message}`];
    case 'health.probe':
      return [`health: ${probeText(event, options.healthyAfter)}`];
    case 'instance.started':
      return [`start: ${event.message}`];
    case 'check.log':
      return [`check ${event.data.check}: ${event.message}`];
    case 'check.started':
    case 'check.passed':
    case 'check.failed':
    case 'checks.skipped':
      // `check lint: \`npm run lint\``, `check lint passed in 1.2 s`, `check lint failed: exited with code 1`: the server's words.
      return [event.message];
    case 'image.pull':
      // `pulling redis:7  43/120 MB (3/7 layers)`, then `pulled redis:7 (120 MB)`: the server's words.
      return [event.message];
    case 'policy.verdict':
      // `policy disk-free: allowed`, `policy load: denied: <its message>`: the server's words.
      return [event.message];
    case 'deploy.switched':
      return [`switch: traffic now goes to v${event.data.version}`];
    case 'deploy.succeeded':
    case 'deploy.failed':
    case 'deploy.interrupted':
    // A deny's policy.verdict was printed just before it; the violation is for the audit report.
    case 'policy.violation':
      return [];
    default:
      // Every other event, and types added to the server later (the union does not know them), by their message.
      return event.message ? [`${(event as { type: string }).type}: ${event.message}`] : [];
  }
}

export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const VERB: Record<Deployment['kind'], (d: Deployment, release: string) => string> = {
  deploy: (d, release) => `deployed ${d.app} ${release}`,
  rollback: (d, release) => `rolled back ${d.app} to ${release}`,
  env: (d, release) => `released ${d.app} ${release} with the new environment`,
  scale: (d, release) => `scaled ${d.app}: ${release} runs the new counts`,
  update: (d, release) => `updated ${d.app} to ${release}: a new image of a followed tag`,
};

/** The last word on a deployment: one success line with the URL, or the error, its hint and the log tail. */
export function deploymentOutcome(d: Deployment, style: Style): Outcome {
  if (d.state === 'succeeded' || d.state === 'draining') {
    const release = d.release ? `${d.release.name} (${d.release.id})` : '';
    const [first, ...more] = d.urls;
    // The check mark only where colour is on: plain output starts with the verb, for scripts to match.
    const head = `${style.enabled ? `${style.green('✔')} ` : ''}${VERB[d.kind](d, release).trimEnd()}${first ? ` -> ${style.bold(first)}` : ''}`;
    return { exitCode: 0, stdout: [head, ...more.map((url) => `  also at ${url}`)].join('\n') + '\n', stderr: '' };
  }
  if (d.state === 'failed' || d.state === 'interrupted') {
    const error = d.error ?? {
      code: d.state === 'interrupted' ? 'DEPLOY_INTERRUPTED' : 'INTERNAL',
      message: d.state === 'interrupted' ? 'the deployment was interrupted because the berth daemon stopped' : `deployment ${d.id} failed`,
      hint: d.state === 'interrupted' ? 'the previous release kept serving; deploy again' : undefined,
      logTail: [],
    };
    const lines: string[] = [];
    if (error.logTail.length) {
      lines.push(style.dim('last log lines:'));
      for (const line of error.logTail) lines.push(style.dim(`  | ${line}`));
    }
    lines.push(formatError({ code: error.code, message: error.message, hint: error.hint }, style).trimEnd());
    if (d.previousRelease) lines.push(`${d.previousRelease.name} (${d.previousRelease.id}) is still serving ${d.app}`);
    return { exitCode: 1, stdout: '', stderr: lines.join('\n') + '\n' };
  }
  return {
    exitCode: 1,
    stdout: '',
    stderr: formatError({ message: `deployment ${d.id} of ${d.app} is still ${d.state}`, hint: `it goes on on the server: \`berth status ${d.app}\`` }, style),
  };
}
