/**
 * The certificate manager with every real part but the proxy: a real SQLite store, the real ACME authority
 * against pebble, the real pre-flight (pebble's DNS, a real HTTP listener serving what the manager
 * publishes), and a manual clock for the manager's decisions (renewal, back-off).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { parseManifest } from '../manifest/load.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from '../store/store.ts';
import { freePort, pebbleTools, startPebble, type Pebble } from '../../test/support/pebble.ts';
import { makeTestCa } from '../../test/support/tls-certs.ts';
import { AcmeAuthority } from './acme.ts';
import { startChallengePlane, type ChallengePlane } from './challenge-plane.test-support.ts';
import { CertificateManager, type CertificateEvent } from './manager.ts';
import { RETRY } from './plan.ts';
import { createPreflight } from './preflight.ts';

const tools = pebbleTools();
const sealer = createSealer(Buffer.alloc(32, 3));

describe('certificate manager', { skip: tools.skip || false }, () => {
  let pebble: Pebble;
  let plane: ChallengePlane;
  let dir: string;
  let store: Store;
  const clock = new ManualClock(Date.now());
  const events: { app: string; event: CertificateEvent }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
    store = new Store(join(dir, 'berth.db'));
    plane = await startChallengePlane();
    pebble = await startPebble({ httpPort: plane.port });
  });
  after(async () => {
    await pebble?.close();
    await plane?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let releases = 0;
  /** The app's serving release lists these domains. */
  const serve = (app: string, yaml: string) => {
    store.apps.ensure(app, 1);
    const id = `r${++releases}`;
    store.builds.insert({ id: `b${releases}`, app, artifact: '/x', inferredCommand: null, gitSha: null, createdAt: 1 });
    store.releases.insert({ id, app, version: releases, buildId: `b${releases}`, manifest: parseManifest(yaml), formation: {}, envSealed: 'x', description: '', status: 'ready', createdAt: 1 });
    store.apps.setCurrentRelease(app, id);
  };
  const manager = (challengePort = plane.port) =>
    new CertificateManager({
      store,
      sealer,
      dataPlane: plane.dataPlane,
      authority: new AcmeAuthority({ directoryUrl: pebble.directoryUrl, email: null, ca: readFileSync(pebble.caFile, 'utf8'), store, sealer, clock: systemClock, log: silentLogger }),
      preflight: createPreflight({ resolver: pebble.dns, challengePort, timeoutMs: 2000 }),
      clock,
      log: silentLogger,
      report: (app, event) => events.push({ app, event }),
      random: () => 0,
      directoryUrl: pebble.directoryUrl,
    });
  const eventsFor = (domain: string) => events.filter((e) => e.event.data.domain === domain).map((e) => `${e.app} ${e.event.type}${e.event.type === 'cert.failed' ? ` ${e.event.data.code}` : ''}`);
  const servedNow = () => plane.sets.at(-1)!.certificates.map((c) => c.hosts.join(','));

  test('a listed domain gets a certificate: requested, issued by pebble, pushed to the data plane; the key sealed, in no event', async () => {
    serve('shop', 'domains: [shop.test]\n');
    const certs = manager();
    const orders = pebble.orders();
    await certs.tick();
    assert.deepEqual(eventsFor('shop.test'), ['shop cert.requested', 'shop cert.issued']);
    assert.equal(pebble.orders(), orders + 1);
    const record = store.certificates.get('shop.test')!;
    assert.deepEqual([record.source, record.app, record.status, record.attempts, record.lastError], ['acme', 'shop', 'issued', 0, null]);
    assert.match(record.issuer!, /Pebble Intermediate CA/);
    assert.equal(record.renewAt, record.notBefore! + Math.round(((record.notAfter! - record.notBefore!) * 2) / 3));
    assert.doesNotMatch(record.keySealed!, /PRIVATE KEY/);
    const pushed = plane.sets.at(-1)!.certificates.find((c) => c.hosts.includes('shop.test'))!;
    assert.equal(pushed.certPem, record.certPem);
    assert.ok(new X509Certificate(pushed.certPem).checkPrivateKey(createPrivateKey(pushed.keyPem)), 'the data plane got the matching key');
    assert.equal(pushed.notAfter, record.notAfter);
    assert.doesNotMatch(JSON.stringify(events), /PRIVATE KEY|BEGIN/);
    assert.deepEqual([...plane.maps.at(-1)!.keys()], [], 'no challenge answer is left published');
    const issued = events.find((e) => e.event.type === 'cert.issued')!.event;
    assert.equal(issued.type === 'cert.issued' && issued.data.serial, new X509Certificate(record.certPem!).serialNumber);
  });

  test('nothing is due: a pass asks nothing and pushes nothing again', async () => {
    const before = events.length;
    // A new manager (a restarted daemon) pushes once at start-up, then only on change.
    const again = manager();
    await again.publish(true);
    const sets = plane.sets.length;
    await again.tick();
    await again.tick();
    assert.equal(events.length, before, 'nothing asked of the CA');
    assert.equal(plane.sets.length, sets, 'the same set is not pushed again');
    assert.deepEqual(servedNow(), ['shop.test']);
  });

  test('a name that does not resolve: cert.failed ACME_DNS, no order reaches the CA, retried after the back-off only', async () => {
    await pebble.servfail('nowhere.test');
    serve('lost', 'domains: [nowhere.test]\n');
    const certs = manager();
    const orders = pebble.orders();
    await certs.tick();
    assert.deepEqual(eventsFor('nowhere.test'), ['lost cert.requested', 'lost cert.failed ACME_DNS']);
    assert.equal(pebble.orders(), orders, 'no order reached pebble');
    const record = store.certificates.get('nowhere.test')!;
    assert.deepEqual([record.status, record.attempts, record.nextAttemptAt! - clock.now()], ['failed', 1, RETRY.minMs]);
    assert.match(record.lastError!.message, /nowhere\.test does not resolve/);
    const failed = events.at(-1)!.event;
    assert.equal(failed.type === 'cert.failed' && failed.data.nextAttemptAt, record.nextAttemptAt);
    await clock.advance(RETRY.minMs - 1);
    await certs.tick();
    assert.equal(eventsFor('nowhere.test').length, 2, 'not retried before its time');
    await clock.advance(1);
    await certs.tick();
    assert.deepEqual(eventsFor('nowhere.test').slice(2), ['lost cert.requested', 'lost cert.failed ACME_DNS']);
    assert.equal(store.certificates.get('nowhere.test')!.attempts, 2);
    assert.equal(pebble.orders(), orders);
    assert.deepEqual(servedNow(), ['shop.test'], 'what was served still is');
  });

  test('a challenge path that does not reach this listener: ACME_UNREACHABLE before the CA is asked', async () => {
    serve('far', 'domains: [far.test]\n');
    const orders = pebble.orders();
    await manager(await freePort()).tick();
    assert.deepEqual(eventsFor('far.test'), ['far cert.requested', 'far cert.failed ACME_UNREACHABLE']);
    assert.equal(pebble.orders(), orders);
  });

  test('a wildcard is held, said once; localhost names are left alone', async () => {
    serve('wild', 'domains: ["*.wild.test", api.localhost]\n');
    const certs = manager();
    await certs.tick();
    await certs.tick();
    assert.deepEqual(eventsFor('*.wild.test'), ['wild cert.failed ACME_WILDCARD']);
    assert.equal(store.certificates.get('*.wild.test')!.lastError!.code, 'ACME_WILDCARD');
    assert.equal(store.certificates.get('api.localhost'), undefined);
    const held = events.find((e) => e.event.data.domain === '*.wild.test')!.event;
    assert.match(held.message, /berth certs add '\*\.wild\.test'/);
  });

  test('a data plane holding a newer certificate set: the manager counts on from its generation', async () => {
    const newest = plane.sets.at(-1)!.generation + 1_000_000_000;
    await plane.dataPlane.applyCertificates({ generation: newest, certificates: [] });
    await manager().publish(true);
    assert.ok(plane.sets.at(-1)!.generation > newest);
    assert.deepEqual(servedNow(), ['shop.test']);
  });
  test('at two thirds of its life the certificate is renewed: a new serial pushed, the old one served until then', async () => {
    const old = store.certificates.get('shop.test')!;
    const certs = manager();
    await clock.advance(old.renewAt! - clock.now() - 1);
    await certs.tick();
    assert.equal(store.certificates.get('shop.test')!.certPem, old.certPem, 'not before its renewal time');
    await clock.advance(1);
    await certs.tick();
    const renewed = store.certificates.get('shop.test')!;
    assert.notEqual(new X509Certificate(renewed.certPem!).serialNumber, new X509Certificate(old.certPem!).serialNumber);
    assert.deepEqual(eventsFor('shop.test').slice(-2), ['shop cert.requested', 'shop cert.renewed']);
    assert.equal(plane.sets.at(-1)!.certificates.find((c) => c.hosts.includes('shop.test'))!.certPem, renewed.certPem);
  });

  test('a certificate the data plane refuses is left out; the others are served', async () => {
    const ca = makeTestCa('refused test CA');
    const good = ca.issue(['own.test']);
    const other = ca.issue(['own.test']);
    const now = clock.now();
    const own = (domain: string, certPem: string, keyPem: string) =>
      store.certificates.save({ domain, source: 'own', app: null, status: 'issued', certPem, keySealed: sealer.seal(keyPem), issuer: 'refused test CA', notBefore: now - 1000, notAfter: now + 86_400_000, renewAt: null, lastError: null, attempts: 0, nextAttemptAt: null, createdAt: now, updatedAt: now });
    own('own.test', good.certPem, good.keyPem);
    // A key that is not the certificate's: the data plane refuses it.
    own('mismatched.test', other.certPem, good.keyPem);
    await manager().publish(true);
    const served = servedNow();
    assert.ok(served.includes('own.test') && served.includes('shop.test'), served.join(' '));
    assert.ok(!served.includes('mismatched.test'));
    store.certificates.remove('mismatched.test');
    store.certificates.remove('own.test');
  });
});
