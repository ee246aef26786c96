/**
 * Notifiers and their delivery queue on a real SQLite file: names unique, only later events for a new
 * notifier, the intake exactly once across a store closed and opened again, the history trimmed, a
 * removed notifier's queue gone with it, and nothing of a URL or secret in the clear on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeIn } from '../notify/intake.ts';
import { addNotifier } from '../notify/notifiers.ts';
import { ManualClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from './store.ts';

function withStore(fn: (open: () => Store, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-notifiers-'));
  try {
    fn(() => new Store(join(dir, 'berth.db')), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const event = (store: Store, type: string, n: number) => store.events.append({ at: n, app: 'shop', deploymentId: null, type, message: `${type} ${n}`, data: null });

test('a committed event becomes one delivery per notifier that wants it, once, across a reopened store', () => {
  withStore((open, dir) => {
    const sealer = createSealer(randomBytes(32));
    const clock = new ManualClock(1000);
    let store = open();
    event(store, 'deploy.failed', 0); // before any notifier: never posted
    const ctx = { store, sealer, clock, log: silentLogger };
    addNotifier(ctx, { name: 'all', kind: 'webhook', url: 'https://hooks.example.com/p/SECRETPATH', secret: 'a-signing-secret-0123' });
    addNotifier(ctx, { name: 'failures', kind: 'slack', url: 'https://hooks.slack.com/services/T/B/SLACKSECRET', events: ['deploy.failed'] });
    event(store, 'deploy.queued', 1);
    event(store, 'build.log', 2);
    event(store, 'deploy.failed', 3);
    assert.deepEqual([...takeIn(store, clock.now())].sort(), ['all', 'failures']);
    assert.deepEqual([...takeIn(store, clock.now())], [], 'a second pass queues nothing again');
    // The daemon dies after this commit and before any intake: the next start takes it in.
    event(store, 'instance.crashloop', 4);
    store.close();
    store = open();
    takeIn(store, clock.now());
    const queued = (name: string) => store.notifyDeliveries.history({ notifier: name, limit: 10 }).map((d) => d.type).reverse();
    assert.deepEqual(queued('all'), ['deploy.queued', 'deploy.failed', 'instance.crashloop']);
    assert.deepEqual(queued('failures'), ['deploy.failed']);
    assert.equal(store.notifyDeliveries.cursor(), 5);
    assert.equal(store.notifyDeliveries.head('all')!.type, 'deploy.queued');
    store.close();
    const disk = ['berth.db', 'berth.db-wal'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    for (const secret of ['SECRETPATH', 'SLACKSECRET', 'a-signing-secret-0123']) assert.ok(!disk.includes(secret), `${secret} in the clear on disk`);
    assert.ok(disk.includes('https://hooks.slack.com/'), 'the display target is stored (the test reads the right file)');
  });
});

test('names are unique; removing a notifier removes its queue; the history keeps the newest finished ones', () => {
  withStore((open) => {
    const store = open();
    const sealer = createSealer(randomBytes(32));
    const n = { name: 'a', kind: 'webhook' as const, urlSealed: sealer.seal('http://x/'), target: 'http://x/…', secretSealed: null, events: null, createdAt: 0 };
    assert.equal(store.notifiers.add(n), true);
    assert.equal(store.notifiers.add(n), false);
    const q = store.notifyDeliveries;
    for (let i = 1; i <= 8; i++) q.enqueue({ id: `d${i}`, notifier: 'a', eventSeq: i, type: 't', app: null, payload: '{}' }, i);
    assert.equal(q.enqueue({ id: 'dup', notifier: 'a', eventSeq: 3, type: 't', app: null, payload: '{}' }, 9), false, 'one delivery per notifier and event');
    for (let i = 1; i <= 6; i++) q.record(`d${i}`, { state: i % 2 ? 'delivered' : 'failed', status: 200, error: null }, 10);
    assert.equal(q.head('a')!.id, 'd7');
    assert.equal(q.trim('a', 3), 3);
    assert.deepEqual(q.history({ notifier: 'a', limit: 10 }).map((d) => d.id), ['d8', 'd7', 'd6', 'd5', 'd4'], 'pending ones never trimmed');
    assert.equal(q.trim('a', 3), 0);
    assert.equal(store.notifiers.remove('a'), true);
    assert.deepEqual(q.history({ limit: 10 }), []);
    assert.equal(store.notifiers.remove('a'), false);
    store.close();
  });
});
