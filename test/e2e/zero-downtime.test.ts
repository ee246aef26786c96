import { after, before, test } from 'node:test';
import { TestBerth } from '../support/berth.ts';
import { zeroDowntimeScenario } from '../support/zero-downtime.ts';

/** Zero downtime on the process runtime (the embedded default). The docker runtime runs the same scenario. */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start({ runtime: 'process' });
});
after(async () => {
  await berth?.close();
});

test('process runtime: 10 deploys and 2 rollbacks under load, 0 failed requests, every answer from the active or a draining release', { timeout: 240_000 }, () =>
  zeroDowntimeScenario(berth),
);
