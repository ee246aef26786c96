import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, TestBerth } from '../support/berth.ts';

/** Env vars: names by default, values only on request, never in a log, an event, the store or a build. */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

const SECRET = 'sk_live_9f8e7d6c5b4a-do-not-leak';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) out.push(...filesUnder(path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

test('env set rolls out through the health gate; list shows names; values never reach logs, events, the store or builds', { timeout: 120_000 }, async () => {
  assert.equal((await berth.api('POST', '/v1/apps', { name: 'vault' })).status, 201);
  // Set before the first deploy: no rollout yet, the value waits for the first release.
  const early = await berth.api('PATCH', '/v1/apps/vault/env', { set: { SECRET_TOKEN: SECRET } });
  assert.equal(early.status, 202);
  assert.deepEqual(early.body, { changed: ['SECRET_TOKEN'], deployment: null });

  await berth.deploy('vault', appCopy('versioned', { 'berth.yaml': 'name: vault\nhealth:\n  path: /health\n  interval: 200ms\n' }));
  const first = JSON.parse((await request({ port: berth.httpPort, host: 'vault.localhost' })).body);
  assert.equal(first.greeting, null);

  const change = await berth.api('PATCH', '/v1/apps/vault/env', { set: { GREETING: 'hej' } });
  assert.equal(change.status, 202);
  assert.equal(change.body.deployment.kind, 'env');
  const rolled = await berth.settle(change.body.deployment.id);
  assert.equal(rolled.release.name, 'v2');
  await waitFor('the new env to serve', async () => JSON.parse((await request({ port: berth.httpPort, host: 'vault.localhost' })).body).greeting === 'hej');

  const names = (await berth.api('GET', '/v1/apps/vault/env')).body;
  assert.deepEqual(names.vars.map((v: { name: string; value?: string }) => [v.name, v.value]), [['GREETING', undefined], ['SECRET_TOKEN', undefined]]);
  const revealed = (await berth.api('GET', '/v1/apps/vault/env?reveal=1')).body;
  assert.equal(revealed.vars.find((v: { name: string }) => v.name === 'SECRET_TOKEN').value, SECRET);

  // The app printed its token; berth keeps that line masked.
  const logs = await waitFor('the app log line', async () => {
    const lines = (await berth.api('GET', '/v1/apps/vault/logs?tail=50')).body.lines as { line: string }[];
    return lines.some((l) => l.line.startsWith('using token')) ? lines : undefined;
  });
  assert.ok(logs.some((l) => l.line === 'using token ***'), JSON.stringify(logs));

  // Nowhere else, in any form berth writes.
  const outputs = [
    JSON.stringify((await berth.api('GET', '/v1/apps')).body),
    JSON.stringify((await berth.api('GET', '/v1/apps/vault')).body),
    JSON.stringify((await berth.api('GET', '/v1/apps/vault/releases')).body),
    JSON.stringify((await berth.api('GET', '/v1/apps/vault/deployments')).body),
    JSON.stringify(logs),
    berth.daemonLog,
  ];
  for (const text of outputs) assert.ok(!text.includes(SECRET), 'a secret leaked into an API answer or the daemon log');
  // The app's raw output holds the value only until the collector has stored the line masked (a pass
  // every 200 ms); it then scrubs those bytes.
  const leaks = () => filesUnder(berth.dataDir).filter((file) => readFileSync(file).includes(SECRET));
  await waitFor('raw output to be scrubbed', () => leaks().length === 0, 5_000).catch(() => {});
  assert.deepEqual(leaks(), [], 'the value is sealed in the store and absent from builds, events, logs and raw output');
  const events = await fetch(`${berth.apiUrl}/v1/deployments/${change.body.deployment.id}/events`, { headers: { authorization: `Bearer ${berth.token}` } });
  assert.ok(!(await events.text()).includes(SECRET));

  const unset = await berth.api('PATCH', '/v1/apps/vault/env', { unset: ['GREETING'] });
  await berth.settle(unset.body.deployment.id);
  await waitFor('GREETING to be gone', async () => JSON.parse((await request({ port: berth.httpPort, host: 'vault.localhost' })).body).greeting === null);
});
