import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../support/http.ts';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage } from '../support/docker-images.ts';

/**
 * The check pipeline on real containers: a `build` check runs in the new image before anything starts,
 * and a `switch` check, a one-off container on the app's network, reaches the new container at its
 * network address (BERTH_TARGET_URL) before any traffic does. Skips visibly without an engine; fails in
 * CI (BERTH_REQUIRE_DOCKER=1).
 */
const docker = await dockerSuite();
let berth: TestBerth;
before(async () => {
  if (docker.skip) return;
  berth = await TestBerth.start({ runtime: 'docker', https: false, args: ['--node-image', await ensureNodeImage()] });
});
after(async () => {
  await berth?.close();
});

const APP = 'checked';
const yaml = (version: string, checks: string) => `name: ${APP}
health:
  path: /health
  interval: 200ms
  healthy_after: 1
env:
  APP_VERSION: ${version}
checks:
${checks}`;
const SCRIPTS = {
  'lint.js': "console.log(`lint in ${process.env.BERTH_RELEASE}: ok`);\n",
  'smoke.js': [
    'const url = process.env.BERTH_TARGET_URL;',
    "const body = await (await fetch(url + '/smoke')).json();",
    'console.log(`smoke: ${url} runs ${body.version}`);',
    'process.exit(body.version === process.env.APP_VERSION ? 0 : 1);',
    '',
  ].join('\n'),
};

describe('check pipeline on the docker runtime', { skip: docker.skip }, () => {
  test('a build check in the new image, then a switch check reaching the new container on the app network', { timeout: 240_000 }, async () => {
    const dir = appCopy('versioned', SCRIPTS);
    writeFileSync(join(dir, 'berth.yaml'), yaml('one', '  - name: lint\n    run: node lint.js\n  - name: smoke\n    run: node smoke.js\n    when: switch\n'));
    const d = await berth.deploy(APP, dir);
    const events = ((await berth.api('GET', `/v1/events?app=${APP}&limit=1000`)).body.events as { deploymentId: string; type: string; message: string; data?: any }[]).filter((e) => e.deploymentId === d.id);
    const passed = events.filter((e) => e.type === 'check.passed').map((e) => e.data.check);
    assert.deepEqual(passed, ['lint', 'smoke']);
    assert.ok(events.some((e) => e.type === 'check.log' && e.message === 'lint in unreleased: ok'), 'the build check runs before the release exists');
    const smoke = events.find((e) => e.type === 'check.log' && e.data.check === 'smoke')!.message;
    const container = ((await berth.api('GET', `/v1/apps/${APP}`)).body.instances as { address: string | null }[])[0].address;
    assert.equal(smoke, `smoke: http://${container} runs one`, 'the container address on the app network, not a host port');
    assert.doesNotMatch(String(container), /^127\./);
    assert.equal(JSON.parse((await request({ port: berth.httpPort, host: `${APP}.localhost` })).body).version, 'one');
    const { containers } = await dockerResources(berth.ownerId());
    assert.ok(!containers.some((c) => c.Labels['berth.kind'] === 'one-off'), 'the check containers are gone');
  });

  test('a failing switch check in a container keeps the old release serving', { timeout: 240_000 }, async () => {
    const dir = appCopy('versioned', { ...SCRIPTS, 'smoke.js': "console.log('smoke: the job queue never answered');\nprocess.exit(5);\n" });
    writeFileSync(join(dir, 'berth.yaml'), yaml('two', '  - name: smoke\n    run: node smoke.js\n    when: switch\n'));
    const reply = await berth.upload(APP, dir);
    const failed = await berth.settle(reply.body.deployment.id, 'finished');
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.message, 'check `smoke` failed: exited with code 5');
    assert.ok(failed.error.logTail.includes('smoke: the job queue never answered'), JSON.stringify(failed.error.logTail));
    assert.equal(JSON.parse((await request({ port: berth.httpPort, host: `${APP}.localhost` })).body).version, 'one');
  });
});
