import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from './http.ts';
import { appCopy, type TestBerth } from './berth.ts';
import { failures, startLoad } from './load.ts';
import { openWs } from './ws-client.ts';

const manifest = (version: number) => `name: zdt
health:
  path: /health
  interval: 200ms
  healthy_after: 2
deploy:
  drain_timeout: 4s
  standby: 2m
env:
  APP_VERSION: "${version}"
  ABRUPT_SIGTERM: "1"
`;

/**
 * The core promise: traffic never notices a deploy. A bounded load runs through berth's proxy while
 * 10 deploys of changing versions and 2 rollbacks happen; slow requests and a WebSocket are open
 * across switches. Shared by the runtimes' tests.
 */
export async function zeroDowntimeScenario(berth: TestBerth): Promise<void> {
  const dir = appCopy('versioned', { 'berth.yaml': manifest(1) });
  await berth.deploy('zdt', dir);
  const host = 'zdt.localhost';
  const load = startLoad({ port: berth.httpPort, host, concurrency: 6, maxDurationMs: 180_000 });
  const slow: Promise<{ status: number; release: string; version: string }>[] = [];
  let ws: Awaited<ReturnType<typeof openWebSocket>> | undefined;
  let wsSwitchAt = 0;

  for (let version = 2; version <= 13; version++) {
    if (version === 4) {
      // Several-second requests in flight across the switch must complete on the old release.
      for (let i = 0; i < 3; i++) {
        slow.push(
          request({ port: berth.httpPort, host, path: '/?delay=2500', timeoutMs: 20_000 }).then((r) => ({ status: r.status, ...JSON.parse(r.body) })),
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    if (version === 6) ws = await openWebSocket(berth.httpPort, host);
    if (version === 8 || version === 12) {
      // Rollbacks: to the release just replaced (warm: its instances wait in standby), then further back (cold).
      const target = version === 8 ? undefined : 'v7';
      const reply = await berth.api('POST', '/v1/apps/zdt/rollback', target ? { release: target } : {});
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      const done = await berth.settle(reply.body.deployment.id);
      assert.ok(['draining', 'succeeded'].includes(done.state), JSON.stringify(done.error));
      continue;
    }
    writeFileSync(join(dir, 'berth.yaml'), manifest(version));
    await berth.deploy('zdt', dir);
    if (version === 6) {
      // The WebSocket opened on v5 keeps working after v6 went live...
      wsSwitchAt = Date.now();
      ws!.client.send('still there');
      const echo = await waitFor('the echo during the deploys', () => ws!.messages.find((m) => m.endsWith(':still there')), 5000, 20);
      assert.equal(echo, `${ws!.release}:still there`);
      assert.equal(ws!.release, 'v5');
    }
  }

  // ...until the drain timeout closes it with a close frame.
  assert.ok(ws);
  const closed = await ws.closed;
  assert.equal(closed.code, 1001, 'a close frame, not a cut connection');
  assert.ok(closed.at - wsSwitchAt >= 2500, `closed ${closed.at - wsSwitchAt} ms after the switch, before the drain timeout`);

  const slowReplies = await Promise.all(slow);
  for (const reply of slowReplies) {
    assert.equal(reply.status, 200);
    assert.equal(reply.release, 'v3', 'slow requests finish on the release that took them');
  }

  await new Promise((r) => setTimeout(r, 500));
  const samples = await load.stop();
  assert.ok(samples.length > 500, `the load ran (${samples.length} requests)`);
  assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed`);

  // Which release was active when: from each deployment's switch event, oldest first.
  const { events } = (await berth.api('GET', '/v1/apps/zdt/events?limit=1000')).body;
  const switches: { at: number; release: string }[] = events
    .filter((e: any) => e.type === 'deploy.switched')
    .map((e: any) => ({ at: Date.parse(e.at), release: `v${e.data.version}` }));
  assert.equal(switches.length, 13, '1 first deploy + 10 deploys + 2 rollbacks');
  assert.deepEqual(
    switches.map((s) => s.release),
    ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v6', 'v8', 'v9', 'v10', 'v7', 'v11'],
  );
  const slack = 1000; // the proxy gets the new table a few milliseconds after the switch is recorded
  const stale = samples.filter((s) =>
    !switches.some((sw, i) => sw.release === s.release && sw.at - slack <= s.end && s.start <= (switches[i + 1]?.at ?? Infinity) + slack),
  );
  assert.deepEqual(stale.slice(0, 5), [], `${stale.length} answers came from a release that was neither active nor draining`);
  const releasesSeen = new Set(samples.map((s) => s.release));
  assert.ok(releasesSeen.size >= 8, `traffic reached many releases (${[...releasesSeen].join(', ')})`);
}

async function openWebSocket(port: number, host: string) {
  const client = await openWs({ port, host });
  client.send('hello');
  const first = await waitFor('the echo of hello', () => client.messages.find((m) => m.endsWith(':hello')), 5000, 20);
  return { client, messages: client.messages, closed: client.closed, release: first.split(':')[0] };
}
