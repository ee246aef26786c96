import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from './http.ts';
import { appCopy, type TestBerth } from './berth.ts';
import { failures, startLoad, type Sample } from './load.ts';
import { openWs } from './ws-client.ts';

/** The knobs of one strategy's run. */
export interface StrategyScenario {
  strategy: 'blue-green' | 'rolling' | 'canary';
  /** Deploys after the first one (each a new version); the acceptance runs 20. */
  deploys: number;
  /** The app's name (default `st-<strategy>`): one per run, so runs of one berth do not meet. */
  app?: string;
  /** web replicas (default 1). */
  replicas?: number;
  /**
   * Lines under `deploy:` beside `strategy`, `drain_timeout` and `standby`, indented by two spaces:
   * `  max_surge: 1\n  max_unavailable: 0\n`, or for a canary short steps:
   * `  canary:\n    steps:\n      - weight: 50\n        for: 1s\n    interval: 1s\n    min_requests: 5\n`.
   */
  deploy?: string;
  /** More top-level berth.yaml (policies, checks); never `deploy:` or `processes:` (use the knobs above). */
  manifestExtra?: string;
  /** The load's requests carry `berth_split` cookies spread over 0..99, so a canary split really splits it. */
  splitCookies?: boolean;
  /** Each deploy's time limit (default 60 s): a canary's steps add to it. */
  deployTimeoutMs?: number;
}

/** How long the old release may finish in-flight requests and WebSockets: the WebSocket must last that long. */
const DRAIN_MS = 4000;

const manifest = (o: StrategyScenario, app: string, version: number) => `name: ${app}
processes:
  web:
    replicas: ${o.replicas ?? 1}
health:
  path: /health
  interval: 100ms
  healthy_after: 2
deploy:
  strategy: ${o.strategy}
  drain_timeout: ${DRAIN_MS}ms
  standby: 2m
${o.deploy ?? ''}env:
  APP_VERSION: "${version}"
  ABRUPT_SIGTERM: "1"
${o.manifestExtra ?? ''}`;

/**
 * The promise of every strategy: traffic never notices a deploy. Bounded load runs through berth's proxy
 * during `deploys` deploys with `deploy.strategy` set; 2 s requests are in flight across several deploys
 * and a WebSocket stays open across them until the drain deadline closes it with a close frame (1001).
 * Asserts 0 failed requests, and that every answer came from a release that was serving or draining then:
 * from its deployment's first started instance (a rolling batch or a canary serve before the switch)
 * until the next release's switch (requests started before it may finish on the old one).
 * Shared by the strategies' e2e tests (process and docker runtimes); returns the load's samples and the
 * deployments (the API's records, the first deploy first) for a strategy's own checks.
 */
export async function strategyScenario(berth: TestBerth, o: StrategyScenario): Promise<{ samples: Sample[]; deployments: any[] }> {
  const began = Date.now();
  const app = o.app ?? `st-${o.strategy}`;
  const host = `${app}.localhost`;
  const dir = appCopy('versioned', { 'berth.yaml': manifest(o, app, 1) });
  const deployments: any[] = [await deployOnce(berth, app, dir, o)];
  const load = startLoad({ port: berth.httpPort, host, concurrency: 4, maxDurationMs: 300_000, ...(o.splitCookies ? { splitCookies: true } : {}) });
  const slow: Promise<{ status: number; release: string }>[] = [];
  let ws: Awaited<ReturnType<typeof openWs>> | undefined;
  let wsRelease = '';
  let wsDeployStart = 0;
  try {
    for (let version = 2; version <= o.deploys + 1; version++) {
      if (version === 3 || version === 4) {
        // 2-second requests in flight across the next deploys: they finish on the release that took them.
        for (let i = 0; i < 2; i++) slow.push(request({ port: berth.httpPort, host, path: '/?delay=2000', timeoutMs: 30_000 }).then((r) => ({ status: r.status, ...JSON.parse(r.body) })));
        await new Promise((r) => setTimeout(r, 100));
      }
      if (version === 5) {
        ws = await openWs({ port: berth.httpPort, host });
        ws.send('hello');
        wsRelease = (await waitFor('the echo of hello', () => ws!.messages.find((m) => m.endsWith(':hello')), 5000, 20)).split(':')[0]!;
        wsDeployStart = Date.now();
      }
      writeFileSync(join(dir, 'berth.yaml'), manifest(o, app, version));
      deployments.push(await deployOnce(berth, app, dir, o));
      if (version === 5) {
        // Still open and answering once the deploy that replaces its release has switched.
        ws!.send('still there');
        const echo = await Promise.race([waitFor('the echo during the drain', () => ws!.messages.find((m) => m.endsWith(':still there')), 5000, 20), ws!.closed.then(() => 'closed')]);
        // A rolling deploy waits for each retired instance to stop, so the drain may have ended already.
        if (o.strategy !== 'rolling') assert.notEqual(echo, 'closed', 'the WebSocket closed before its drain deadline');
        if (echo !== 'closed') assert.equal(echo, `${wsRelease}:still there`);
      }
    }

    // The WebSocket ended by a close frame at the drain deadline, not by a cut connection nor early.
    assert.ok(ws);
    const closed = await Promise.race([ws.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the WebSocket was never closed')), 30_000))]);
    assert.equal(closed.code, 1001, 'a close frame, not a cut connection');
    assert.ok(closed.at - wsDeployStart >= DRAIN_MS - 300, `closed ${closed.at - wsDeployStart} ms after the deploy began, before the drain timeout (${DRAIN_MS} ms)`);

    // Sent while v2, then v3 served alone: each finished on the release that took it, across the next deploy.
    const replies = await Promise.all(slow);
    assert.deepEqual(replies.map((r) => `${r.status} ${r.release}`), ['200 v2', '200 v2', '200 v3', '200 v3']);
  } finally {
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    ws?.end();
  }

  const samples = load.samples;
  assert.ok(samples.length > 20 * o.deploys, `the load ran (${samples.length} requests)`);
  assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed`);
  const stale = staleAnswers(samples, await serviceWindows(berth, app, deployments));
  assert.deepEqual(stale.slice(0, 5), [], `${stale.length} answers came from a release that was neither serving nor draining`);
  assert.ok(new Set(samples.map((s) => s.release)).size >= Math.min(8, o.deploys), 'traffic reached many releases');
  process.stderr.write(`${app}: ${o.deploys} ${o.strategy} deploys under load in ${Math.round((Date.now() - began) / 1000)} s, ${samples.length} requests\n`);
  return { samples, deployments };
}

async function deployOnce(berth: TestBerth, app: string, dir: string, o: StrategyScenario): Promise<any> {
  const reply = await berth.upload(app, dir, '?wait=1');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const d = await berth.settle(reply.body.deployment.id, 'switched', o.deployTimeoutMs ?? 60_000);
  assert.ok(d.state === 'draining' || d.state === 'succeeded', `deploy ${d.state}: ${JSON.stringify(d.error)}`);
  return d;
}

interface Window {
  release: string;
  from: number;
  switched: number;
}

/** For each deployment, oldest first: its release, its first instance's start and its switch. */
async function serviceWindows(berth: TestBerth, app: string, deployments: any[]): Promise<Window[]> {
  const reply = await berth.api('GET', `/v1/events?app=${app}&type=deploy.switched,instance.started&limit=1000`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  const events: any[] = reply.body.events;
  return deployments.map((d) => {
    const own = events.filter((e) => e.deploymentId === d.id);
    const switched = own.find((e) => e.type === 'deploy.switched');
    const first = own.find((e) => e.type === 'instance.started');
    assert.ok(switched, `deployment ${d.id} switched`);
    return { release: `v${switched.data.version}`, from: Date.parse((first ?? switched).at), switched: Date.parse(switched.at) };
  });
}

/** Answers from a release outside [its first instance's start, the next release's switch] (1 s of slack each side). */
function staleAnswers(samples: Sample[], windows: Window[]): Sample[] {
  const slack = 1000;
  return samples.filter((s) => {
    const i = windows.findIndex((w) => w.release === s.release);
    if (i === -1) return true;
    const until = windows[i + 1]?.switched ?? Infinity;
    return !(windows[i]!.from - slack <= s.end && s.start <= until + slack);
  });
}
