import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthEvent } from '../model/events.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import { emit } from './emit.ts';
import { startKit, type Kit } from './kit.test-support.ts';

/** Events and deployment errors are masked with the app's secrets whatever wrote them (fake driver, real store). */
const SECRET = 'tok"en\\with\tescapes-9f8e';
const OLD = 'old-secret-value-1234';
const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  deadline: 2s\n';

let kit: Kit;
before(async () => {
  kit = await startKit();
});
after(async () => {
  await kit.close();
});

const setEnv = (app: string, name: string, value: string) => {
  kit.ctx.store.apps.ensure(app, Date.now());
  kit.ctx.store.env.set(app, name, kit.ctx.sealer.seal(value), Date.now());
};
const shows = (text: string, secret: string) => [secret, JSON.stringify(secret).slice(1, -1)].some((form) => text.includes(form));

test('a failed build that printed a secret: build.log events, the failure event and the stored error are masked', async () => {
  setEnv('leaky', 'TOKEN', SECRET);
  const behaviour: FakeBehaviour = { build: 'fail', buildLog: [`printing ${SECRET}`, `as json ${JSON.stringify(SECRET)}`] };
  const d = kit.deployer.start({ app: 'leaky', kind: 'deploy', description: 'test', wait: true, source: kit.source(manifest, behaviour) });
  await kit.deployer.idle('leaky');
  const failed = kit.ctx.store.deployments.get(d.id)!;
  assert.equal(failed.state, 'failed');
  assert.ok(failed.error!.logTail.includes('printing ***'), JSON.stringify(failed.error));
  assert.ok(failed.error!.logTail.includes('as json "***"'), JSON.stringify(failed.error));
  const events = kit.ctx.store.events.forDeployment(d.id);
  assert.ok(events.some((e) => e.type === 'build.log' && e.message === 'printing ***'));
  for (const text of [JSON.stringify(failed), JSON.stringify(events)]) assert.ok(!shows(text, SECRET), text);
});

test('any event of an app is masked: the env as set now, and the serving release\'s snapshot after the env changed', async () => {
  setEnv('rotated', 'TOKEN', OLD);
  const d = kit.deployer.start({ app: 'rotated', kind: 'deploy', description: 'test', wait: true, source: kit.source(manifest) });
  await kit.deployer.idle('rotated');
  assert.equal(kit.ctx.store.deployments.get(d.id)!.state, 'draining');
  // Rotated, not rolled out yet: the serving release still runs with the old value.
  setEnv('rotated', 'TOKEN', SECRET);
  // No event of berth's has data this deep: a made-up one proves masking reaches any depth.
  const note = { type: 'test.note', message: `old ${OLD} new ${SECRET}`, data: { nested: { list: [OLD, `x ${SECRET}`] } } };
  emit(kit.ctx, { app: 'rotated', deploymentId: null }, note as unknown as BerthEvent);
  const event = kit.ctx.store.events.forApp('rotated').at(-1)!;
  assert.equal(event.message, 'old *** new ***');
  assert.deepEqual(JSON.parse(JSON.stringify(event.data)), { nested: { list: ['***', 'x ***'] } });
  // Another app's events are not masked with this app's secrets (nothing to hide there, nothing shredded).
  emit(kit.ctx, { app: 'other', deploymentId: null }, { type: 'app.created', message: `mentions ${OLD}` });
  assert.equal(kit.ctx.store.events.forApp('other').at(-1)!.message, `mentions ${OLD}`);
});
