/** serial-queues.ts: one instance's operations never interleave; other instances do not wait for them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialQueues } from './serial-queues.ts';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
};

test('operations of one key run one after the other, in order; another key runs meanwhile', async () => {
  const queues = new SerialQueues();
  const log: string[] = [];
  const first = gate();
  const a1 = queues.run('a', async () => {
    log.push('a1 start');
    await first.opened;
    log.push('a1 end');
    return 1;
  });
  const a2 = queues.run('a', async () => {
    log.push('a2');
    return 2;
  });
  const b1 = queues.run('b', async () => {
    log.push('b1');
    return 3;
  });
  assert.equal(await b1, 3);
  assert.deepEqual(log, ['a1 start', 'b1'], 'b did not wait for a; a2 waits for a1');
  first.open();
  assert.deepEqual([await a1, await a2], [1, 2]);
  assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
});

test('a failure rejects for its caller only; the next operation still runs', async () => {
  const queues = new SerialQueues();
  const failing = queues.run('a', async () => {
    throw new Error('boom');
  });
  const next = queues.run('a', async () => 'ran');
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'ran');
});

test('settled() waits for what is queued; an idle key is dropped', async () => {
  const queues = new SerialQueues();
  const slow = gate();
  let done = false;
  void queues.run('a', async () => {
    await slow.opened;
    done = true;
  });
  assert.equal(queues.size, 1);
  let settled = false;
  const waiting = queues.settled().then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  slow.open();
  await waiting;
  assert.equal(done, true);
  await new Promise((r) => setImmediate(r));
  assert.equal(queues.size, 0, 'nothing kept for a key with nothing queued');
});
