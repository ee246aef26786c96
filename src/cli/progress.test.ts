import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventOf, EventType } from '../model/events.ts';
import type { ApiEvent, Deployment } from '../model/wire.ts';
import { createProgressView } from './follow.ts';
import { stripAnsi, style } from './io.ts';
import { applyEvent, deploymentOutcome, newProgress, plainLines, renderLive, sanitizeLine, uploadDone, uploadProgress, type Progress } from './progress.ts';
import { sink } from './cli.test-support.ts';

const plain = style(false);
let seq = 0;
/** An event as the API sends it; `data` as its type has it (checked), absent for types without data. */
const ev = <T extends EventType>(type: T, message = '', ...data: EventOf<T> extends { data: infer D } ? [data: D] : EventOf<T> extends { data?: infer D } ? [data?: D] : []): ApiEvent =>
  ({
    seq: ++seq,
    at: '2024-05-01T12:00:00.000Z',
    app: 'hello',
    deploymentId: 'dep_1',
    type,
    message,
    ...(data.length ? { data: data[0] } : {}),
  }) as ApiEvent;

/** A recorded deploy: [milliseconds after the upload started, event]. */
const RECORDED: [number, ApiEvent][] = [
  [1000, ev('deploy.queued', 'queued', { kind: 'deploy' })],
  [1100, ev('deploy.state', 'building', { state: 'building' })],
  ...['> hello@1.0.0 build', '> tsc -p .', 'compiling 12 files', 'wrote dist/server.js', 'wrote dist/routes.js', 'done in 1.9s'].map(
    (line, i): [number, ApiEvent] => [1200 + i * 100, ev('build.log', line)],
  ),
  [3100, ev('deploy.state', 'starting', { state: 'starting' })],
  [3200, ev('instance.started', 'web.0 started on 127.0.0.1:40001', { instance: 'ins_01jd3k9x2m4qa1b2', process: 'web', address: '127.0.0.1:40001' })],
  [3600, ev('deploy.state', 'verifying', { state: 'verifying' })],
  // No message: the line is built from the data.
  [4600, ev('health.probe', '', { instance: 'ins_01jd3k9x2m4qa1b2', ok: false, error: 'connection refused', consecutive: 0 })],
  [5600, ev('health.probe', 'web.0 ok (1/2)', { instance: 'ins_01jd3k9x2m4qa1b2', ok: true, status: 200, consecutive: 1 })],
  [6600, ev('health.probe', 'web.0 ok (2/2)', { instance: 'ins_01jd3k9x2m4qa1b2', ok: true, status: 200, consecutive: 2 })],
  [6700, ev('deploy.state', 'switching', { state: 'switching' })],
  [6750, ev('deploy.switched', 'v3 is live at http://hello.localhost:8080', { release: 'rel_3', version: 3, urls: ['http://hello.localhost:8080'] })],
  [6800, ev('deploy.state', 'draining', { state: 'draining' })],
  [7300, ev('deploy.succeeded', 'succeeded')],
];

function replay(until: number, start: Progress = uploadDone(uploadProgress(newProgress({ upload: true, now: 0, healthyAfter: 2 }), 2_500_000), { files: 12, bytes: 3_100_000 }, 900)): Progress {
  return RECORDED.filter(([at]) => at <= until).reduce((p, [at, event]) => applyEvent(p, event, at), start);
}

test('live display while uploading: bytes sent so far, the other steps waiting', () => {
  const p = uploadProgress(newProgress({ upload: true, now: 0 }), 2_500_000);
  assert.deepEqual(renderLive(p, 400, plain), ['⠴ upload         0.4s  2.4 MB sent', '· build', '· start', '· health check', '· switch']);
});

test('live display during the build: spinner on it, its last 5 output lines under it', () => {
  assert.deepEqual(renderLive(replay(1800), 1850, plain), [
    '✔ upload         0.9s  12 files, 3.0 MB',
    '⠸ build          0.8s',
    '    > tsc -p .',
    '    compiling 12 files',
    '    wrote dist/server.js',
    '    wrote dist/routes.js',
    '    done in 1.9s',
    '· start',
    '· health check',
    '· switch',
  ]);
});

test('live display during the health check: the build collapses to one line, probes show per instance', () => {
  assert.deepEqual(renderLive(replay(5600), 5700, plain), [
    '✔ upload         0.9s  12 files, 3.0 MB',
    '✔ build          2.0s',
    '✔ start          0.5s  web.0 started on 127.0.0.1:40001',
    '⠙ health check   2.1s  web.0 ok (1/2)',
    '· switch',
  ]);
});

test('live display at the end: every step done with its time', () => {
  assert.deepEqual(renderLive(replay(Infinity), 9000, plain), [
    '✔ upload         0.9s  12 files, 3.0 MB',
    '✔ build          2.0s',
    '✔ start          0.5s  web.0 started on 127.0.0.1:40001',
    '✔ health check   3.1s  web.0 ok (2/2)',
    '✔ switch         0.1s  traffic now goes to v3; draining the previous release',
  ]);
});

test('live display of a failed build marks the step and leaves later steps waiting', () => {
  const p = applyEvent(replay(1500), ev('deploy.failed', 'failed', { code: 'BUILD_FAILED', message: 'build failed', logTail: [] }), 2000);
  assert.deepEqual(renderLive(p, 2500, plain), ['✔ upload         0.9s  12 files, 3.0 MB', '✖ build          0.9s', '· start', '· health check', '· switch']);
});

test('live display of an instant rollback: steps that never ran are left out', () => {
  const start = newProgress({ upload: false, now: 0 });
  const p = [ev('deploy.state', 'switching', { state: 'switching' }), ev('deploy.switched', 'switched', { release: 'rel_2', version: 2, urls: [] }), ev('deploy.succeeded')].reduce(
    (acc, event, i) => applyEvent(acc, event, 100 * (i + 1)),
    start,
  );
  assert.deepEqual(renderLive(p, 1000, plain), ['✔ switch         0.1s  traffic now goes to v2']);
});

test('live display shows a queued deployment until work starts', () => {
  const p = applyEvent(newProgress({ upload: false, now: 0 }), ev('deploy.queued', '', { kind: 'deploy' }), 10);
  assert.equal(renderLive(p, 0, plain)[0], '⠋ queued: waiting for the server to start this deployment');
  assert.ok(!renderLive(applyEvent(p, ev('deploy.state', '', { state: 'building' }), 20), 0, plain).some((line) => line.includes('queued')));
});

test('build output with its own colours, tabs and carriage returns cannot break the live block', () => {
  assert.equal(sanitizeLine('\x1b[32mok\x1b[39m\tdone\r 50%'), 'ok  done  50%');
  const p = applyEvent(replay(1100), ev('build.log', 'npm \x1b[1mWARN\x1b[22m\rprogress'), 1200);
  assert.equal(renderLive(p, 1300, plain).at(2), '    npm WARN progress');
});

test('live lines are cut to the terminal width', () => {
  const lines = renderLive(replay(1800), 1850, style(true), 20);
  for (const line of lines) assert.ok(stripAnsi(line).length <= 20, line);
});

test('plain mode: one timestamp-free line per event', () => {
  const lines = RECORDED.flatMap(([, event]) => plainLines(event, { healthyAfter: 2 }));
  assert.deepEqual(lines, [
    'state: queued',
    'state: building',
    'build: > hello@1.0.0 build',
    'build: > tsc -p .',
    'build: compiling 12 files',
    'build: wrote dist/server.js',
    'build: wrote dist/routes.js',
    'build: done in 1.9s',
    'state: starting',
    'start: web.0 started on 127.0.0.1:40001',
    'state: verifying',
    'health: a1b2 failing (connection refused)',
    'health: web.0 ok (1/2)',
    'health: web.0 ok (2/2)',
    'state: switching',
    'switch: traffic now goes to v3',
    'state: draining',
  ]);
  // A type this CLI does not know yet: a newer server's.
  assert.deepEqual(plainLines(ev('something.new' as EventType, 'a newer server says hi')), ['something.new: a newer server says hi']);
  assert.deepEqual(plainLines(ev('health.probe', '', { instance: 'ins_x1', ok: false, status: 503, consecutive: 0 })), ['health: x1 failing (HTTP 503)']);
  assert.deepEqual(plainLines(ev('health.probe', '', { instance: 'ins_x1', ok: true, consecutive: 1 }), { healthyAfter: 3 }), ['health: x1 ok 1/3']);
  // A deny prints once, as its verdict; the violation that follows it is the audit report's.
  assert.deepEqual(plainLines(ev('policy.violation', 'policy load: denied', { check: 'load', reason: 'busy' })), []);
});

test('the plain view prints the upload summary and the event lines; the live view redraws in place', () => {
  const out = sink();
  const view = createProgressView({ out, live: false, style: plain, upload: true, healthyAfter: 2 });
  view.uploadProgress(100);
  view.uploadDone(12, 3_100_000);
  for (const [, event] of RECORDED.slice(0, 3)) view.event(event);
  view.close();
  assert.equal(out.text, 'upload: 12 files, 3.0 MB\nstate: queued\nstate: building\nbuild: > hello@1.0.0 build\n');

  const tty = sink(true);
  let now = 0;
  const live = createProgressView({ out: tty, live: true, style: plain, upload: true, now: () => now });
  now = 500;
  live.uploadDone(1, 10);
  live.close();
  live.close();
  const frames = tty.text.split('\x1b[5F\x1b[J');
  assert.equal(frames.length, 3, 'first frame, then one redraw per change, close draws once');
  assert.equal(frames[2].split('\n')[0], '✔ upload         0.5s  1 file, 10 B');
});

const deployment = (over: Partial<Deployment>): Deployment => ({
  id: 'dep_1',
  app: 'hello',
  kind: 'deploy',
  state: 'succeeded',
  release: { id: 'rel_3', version: 3, name: 'v3' },
  previousRelease: { id: 'rel_2', version: 2, name: 'v2' },
  createdAt: '2024-05-01T12:00:00Z',
  finishedAt: '2024-05-01T12:00:07Z',
  urls: ['http://hello.localhost:8080', 'https://hello.example.com'],
  error: null,
  ...over,
});

test('outcome of a success: one line with the release and URL', () => {
  assert.deepEqual(deploymentOutcome(deployment({}), plain), {
    exitCode: 0,
    stdout: 'deployed hello v3 (rel_3) -> http://hello.localhost:8080\n  also at https://hello.example.com\n',
    stderr: '',
  });
  assert.equal(deploymentOutcome(deployment({ kind: 'rollback', urls: [] }), plain).stdout, 'rolled back hello to v3 (rel_3)\n');
  assert.match(deploymentOutcome(deployment({ kind: 'env' }), plain).stdout, /^released hello v3 \(rel_3\) with the new environment -> http/);
  assert.equal(stripAnsi(deploymentOutcome(deployment({ urls: [] }), style(true)).stdout), '✔ deployed hello v3 (rel_3)\n', 'the check mark only with colour');
});

test('outcome of a failure: the log tail, then the error and hint, and what still serves', () => {
  const failed = deployment({
    state: 'failed',
    error: { code: 'HEALTH_CHECK_FAILED', message: 'the new release never became healthy: no 2xx within 60s', hint: 'did the app listen on $PORT?', logTail: ['listening on 3000', 'oops'] },
  });
  assert.deepEqual(deploymentOutcome(failed, plain), {
    exitCode: 1,
    stdout: '',
    stderr: [
      'last log lines:',
      '  | listening on 3000',
      '  | oops',
      'error: the new release never became healthy: no 2xx within 60s',
      'hint: did the app listen on $PORT?',
      'v2 (rel_2) is still serving hello',
      '',
    ].join('\n'),
  });
  const interrupted = deploymentOutcome(deployment({ state: 'interrupted', previousRelease: null }), plain);
  assert.equal(interrupted.exitCode, 1);
  assert.match(interrupted.stderr, /^error: the deployment was interrupted/);
  const running = deploymentOutcome(deployment({ state: 'building' }), plain);
  assert.equal(running.exitCode, 1);
  assert.match(running.stderr, /still building/);
});

test('the checks steps: the running check with its last line, each finished one with its duration; a failure marks the step', () => {
  const started = (check: string, when: 'build' | 'switch') => ev('check.started', `check ${check}: \`npm run ${check}\``, { check, when, command: `npm run ${check}` });
  const line = (check: string, text: string) => ev('check.log', text, { check, stream: 'stdout' });
  const passed = (check: string, when: 'build' | 'switch', durationMs: number) => ev('check.passed', `check ${check} passed`, { check, when, durationMs, exitCode: 0 });
  const steps: [number, ApiEvent][] = [
    [1000, ev('deploy.state', 'building', { state: 'building' })],
    [2000, ev('deploy.state', 'checking', { state: 'checking' })],
    [2000, started('lint', 'build')],
    [2100, line('lint', 'checked 12 files')],
    [3200, passed('lint', 'build', 1200)],
    [3200, started('test', 'build')],
    [3300, line('test', '\x1b[32mok 1 adds\x1b[39m')],
  ];
  const at = (until: number) => steps.filter(([t]) => t <= until).reduce((p, [t, event]) => applyEvent(p, event, t), newProgress({ upload: false, now: 0 }));
  assert.deepEqual(renderLive(at(2100), 2500, plain), ['✔ build          1.0s', '⠙ checks         0.5s  lint: checked 12 files', '· start', '· health check', '· switch']);
  assert.deepEqual(renderLive(at(3300), 3500, plain)[1], '⠸ checks         1.5s  lint 1.2s; test: ok 1 adds');
  // The switch checks come after the health check, as a step of their own.
  const later: [number, ApiEvent][] = [
    [3400, passed('test', 'build', 200)],
    [3500, ev('deploy.state', 'starting', { state: 'starting' })],
    [3600, ev('deploy.state', 'verifying', { state: 'verifying' })],
    [4000, ev('deploy.state', 'checking', { state: 'checking' })],
    [4000, started('smoke', 'switch')],
    [4500, ev('check.failed', 'check smoke failed: exited with code 3', { check: 'smoke', when: 'switch', durationMs: 500, exitCode: 3, reason: 'exited with code 3' })],
    [4500, ev('deploy.failed', 'failed', { code: 'CHECK_FAILED', message: 'check `smoke` failed: exited with code 3', logTail: [] })],
  ];
  const end = later.reduce((p, [t, event]) => applyEvent(p, event, t), at(3300));
  assert.deepEqual(renderLive(end, 5000, plain), [
    '✔ build          1.0s',
    '✔ checks         1.5s  lint 1.2s, test 0.2s',
    '✔ start          0.1s',
    '✔ health check   0.4s',
    '✖ checks         0.5s  smoke failed (exited with code 3)',
    '· switch',
  ]);
  assert.equal(end.outcome, 'failed');
});

test('checks skipped with --skip-checks stay visible; plain mode names the check of each line', () => {
  const p = [ev('deploy.state', 'building', { state: 'building' }), ev('checks.skipped', 'checks skipped (--skip-checks): lint, test', { checks: ['lint', 'test'] }), ev('deploy.state', 'starting', { state: 'starting' })].reduce(
    (acc, event, i) => applyEvent(acc, event, 1000 * (i + 1)),
    newProgress({ upload: false, now: 0 }),
  );
  assert.deepEqual(renderLive(p, 3500, plain).slice(0, 3), ['✔ build          2.0s', '- checks               skipped (--skip-checks): lint, test', '⠸ start          0.5s']);
  assert.deepEqual(plainLines(ev('check.log', 'checked 12 files', { check: 'lint', stream: 'stdout' })), ['check lint: checked 12 files']);
  assert.deepEqual(plainLines(ev('checks.skipped', 'checks skipped (--skip-checks): lint', { checks: ['lint'] })), ['checks skipped (--skip-checks): lint']);
  assert.deepEqual(plainLines(ev('check.passed', 'check lint passed in 1.2 s', { check: 'lint', when: 'build', durationMs: 1200, exitCode: 0 })), ['check lint passed in 1.2 s']);
});
