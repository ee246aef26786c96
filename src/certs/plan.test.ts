import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.ts';
import type { CertificateRecord } from '../model/records.ts';
import { acmeEligibility, covers, MAX_RETRY_AFTER_MS, nextAttemptAt, planCertificates, renewalTime, retryDelay, RETRY, wantedDomains, type WantedDomain } from './plan.ts';
import { failed, held, issued, started } from './transitions.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const want = (...pairs: [string, string][]): WantedDomain[] => pairs.map(([domain, app]) => ({ domain, app }));
const acmeIssued = (domain: string, app: string, notBefore: number, notAfter: number, now = notBefore): CertificateRecord =>
  issued(undefined, domain, app, { certPem: `pem of ${domain}`, keySealed: 'sealed', issuer: 'Test CA', notBefore, notAfter }, now);
const own = (domain: string, notAfter: number): CertificateRecord => ({
  ...acmeIssued(domain, 'x', 0, notAfter),
  source: 'own',
  app: null,
  renewAt: null,
});

test('which names go to ACME: never localhost, *.localhost or IP literals; wildcards wait for an own certificate', () => {
  assert.equal(acmeEligibility('app.example.com'), 'acme');
  assert.equal(acmeEligibility('*.example.com'), 'wildcard');
  for (const name of ['localhost', 'a.localhost', 'x.y.LOCALHOST', '127.0.0.1', '::1', '[::1]', '10.0.0.5']) assert.equal(acmeEligibility(name), 'never', name);
  const plan = planCertificates({ wanted: want(['a.localhost', 'a'], ['127.0.0.1', 'a'], ['a.test', 'a']), records: [], now: 0 });
  assert.deepEqual(plan.steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'new' }]);
});

test('wanted domains: lowercase, the first app listing a name keeps it, apps without a serving release list nothing', () => {
  assert.deepEqual(
    wantedDomains([
      { name: 'a', domains: ['A.test', 'b.test'] },
      { name: 'b', domains: ['b.test'] },
      { name: 'c', domains: null },
    ]),
    want(['a.test', 'a'], ['b.test', 'a']),
  );
});

test('a wildcard is held once, saying it needs an own certificate; an own one for it ends the hold', () => {
  const first = planCertificates({ wanted: want(['*.shop.test', 'shop']), records: [], now: 0 });
  assert.deepEqual(first.steps, [{ do: 'hold', domain: '*.shop.test', app: 'shop' }]);
  const record = held(undefined, '*.shop.test', 'shop', { code: 'ACME_WILDCARD', message: 'needs an own certificate' }, 0);
  assert.deepEqual(planCertificates({ wanted: want(['*.shop.test', 'shop']), records: [record], now: 1000 }).steps, []);
  // Another app lists it now: held again for that app (its event log says why).
  assert.deepEqual(planCertificates({ wanted: want(['*.shop.test', 'other']), records: [record], now: 1000 }).steps, [{ do: 'hold', domain: '*.shop.test', app: 'other' }]);
  const ownWildcard = own('*.shop.test', 90 * DAY);
  const plan = planCertificates({ wanted: want(['*.shop.test', 'shop']), records: [ownWildcard], now: 1000 });
  assert.deepEqual(plan.steps, []);
  assert.deepEqual(plan.serve, [{ domain: '*.shop.test', source: 'own', hosts: ['*.shop.test'], notAfter: 90 * DAY }]);
});

test('renewal at two thirds of the lifetime, not before; the old certificate serves meanwhile', () => {
  assert.equal(renewalTime(0, 90 * DAY), 60 * DAY);
  assert.equal(renewalTime(1000, 1000 + 30_000), 21_000);
  const record = acmeIssued('a.test', 'a', 0, 90 * DAY);
  assert.equal(record.renewAt, 60 * DAY);
  const before = planCertificates({ wanted: want(['a.test', 'a']), records: [record], now: 60 * DAY - 1 });
  assert.deepEqual(before.steps, []);
  assert.deepEqual(before.serve, [{ domain: 'a.test', source: 'acme', hosts: ['a.test'], notAfter: 90 * DAY }]);
  const due = planCertificates({ wanted: want(['a.test', 'a']), records: [started(record, 'a.test', 'a', 60 * DAY)], now: 60 * DAY });
  assert.deepEqual(due.steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'renewal' }]);
  assert.equal(due.serve.length, 1, 'a renewal under way keeps the certificate served');
});

test('back-off: 1 minute doubling to 6 hours, with up to 25% jitter, never past 6 hours', () => {
  assert.equal(retryDelay(1, 0), MIN);
  assert.equal(retryDelay(1, 0.999999), Math.round(MIN * 1.25 - 0.00006));
  assert.equal(retryDelay(2, 0), 2 * MIN);
  assert.equal(retryDelay(5, 0), 16 * MIN);
  assert.equal(retryDelay(9, 0), 256 * MIN);
  assert.equal(retryDelay(10, 0), RETRY.maxMs);
  assert.equal(retryDelay(10, 0.99), RETRY.maxMs);
  assert.equal(retryDelay(1000, 0.5), RETRY.maxMs);
  const spread = new Set([0, 0.25, 0.5, 0.75].map((r) => retryDelay(3, r)));
  assert.equal(spread.size, 4, 'different random draws spread retries apart');
  for (const r of [0, 0.5, 0.99]) assert.ok(retryDelay(3, r) >= 4 * MIN && retryDelay(3, r) <= 5 * MIN);
});

test('a CA\'s Retry-After is respected when it is later than the back-off (within reason)', () => {
  assert.equal(nextAttemptAt(1000, 1, 0, null), 1000 + MIN);
  assert.equal(nextAttemptAt(1000, 1, 0, 30_000), 1000 + MIN, 'sooner than the back-off: the back-off wins');
  assert.equal(nextAttemptAt(1000, 1, 0, 3 * HOUR), 1000 + 3 * HOUR);
  assert.equal(nextAttemptAt(1000, 1, 0, 365 * DAY), 1000 + MAX_RETRY_AFTER_MS);
});

test('a failure is retried when its time comes, with the clock; success resets the count', async () => {
  const clock = new ManualClock(1_000_000);
  const wanted = want(['a.test', 'a']);
  let record: CertificateRecord | undefined;
  assert.deepEqual(planCertificates({ wanted, records: [], now: clock.now() }).steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'new' }]);
  record = started(record, 'a.test', 'a', clock.now());
  assert.equal(record.status, 'pending');
  const failure = { code: 'ACME_DNS', message: 'a.test does not resolve', retryAfterMs: null };
  record = failed(record, 'a.test', 'a', failure, clock.now(), 0);
  assert.deepEqual([record.status, record.attempts, record.nextAttemptAt, record.lastError], ['failed', 1, clock.now() + MIN, { code: 'ACME_DNS', message: 'a.test does not resolve' }]);
  await clock.advance(MIN - 1);
  assert.deepEqual(planCertificates({ wanted, records: [record], now: clock.now() }).steps, []);
  await clock.advance(1);
  assert.deepEqual(planCertificates({ wanted, records: [record], now: clock.now() }).steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'retry' }]);
  record = failed(started(record, 'a.test', 'a', clock.now()), 'a.test', 'a', failure, clock.now(), 0);
  assert.deepEqual([record.attempts, record.nextAttemptAt! - clock.now()], [2, 2 * MIN]);
  await clock.advance(2 * MIN);
  record = issued(record, 'a.test', 'a', { certPem: 'pem', keySealed: 'k', issuer: 'CA', notBefore: clock.now(), notAfter: clock.now() + 90 * DAY }, clock.now());
  assert.deepEqual([record.status, record.attempts, record.nextAttemptAt, record.lastError], ['issued', 0, null, null]);
  assert.equal(record.createdAt, 1_000_000, 'the record is the same one');
});

test('a renewal that fails keeps the old certificate serving and retries with the back-off', () => {
  const record = acmeIssued('a.test', 'a', 0, 90 * DAY);
  const after = failed(started(record, 'a.test', 'a', 60 * DAY), 'a.test', 'a', { code: 'ACME_REFUSED', message: 'no', retryAfterMs: null }, 60 * DAY, 0);
  assert.equal(after.status, 'issued');
  assert.equal(after.certPem, 'pem of a.test');
  const plan = planCertificates({ wanted: want(['a.test', 'a']), records: [after], now: 60 * DAY + 1 });
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.serve.length, 1);
  assert.deepEqual(planCertificates({ wanted: want(['a.test', 'a']), records: [after], now: 60 * DAY + MIN }).steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'retry' }]);
  // Expired while failing: no longer served, still retried.
  const expired = planCertificates({ wanted: want(['a.test', 'a']), records: [after], now: 90 * DAY });
  assert.deepEqual(expired.serve, []);
  assert.deepEqual(expired.steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'retry' }]);
});

test('a record left pending by a daemon that stopped mid-way is asked for again at once', () => {
  const pending = started(undefined, 'a.test', 'a', 5);
  assert.deepEqual(planCertificates({ wanted: want(['a.test', 'a']), records: [pending], now: 6 }).steps, [{ do: 'issue', domain: 'a.test', app: 'a', reason: 'new' }]);
});

test('own certificates win: no ACME for their names, and an ACME one for the same name is not served', () => {
  const acme = acmeIssued('www.shop.test', 'shop', 0, 90 * DAY);
  const ownWild = own('*.shop.test', 30 * DAY);
  const plan = planCertificates({ wanted: want(['www.shop.test', 'shop'], ['a.b.shop.test', 'shop']), records: [ownWild, acme], now: DAY });
  // a.b.shop.test is two labels below: the wildcard does not cover it.
  assert.deepEqual(plan.steps, [{ do: 'issue', domain: 'a.b.shop.test', app: 'shop', reason: 'new' }]);
  assert.deepEqual(plan.serve.map((c) => c.domain), ['*.shop.test']);
  // The own certificate expired: ACME takes over again (the one it held is due: two thirds passed).
  const later = planCertificates({ wanted: want(['www.shop.test', 'shop']), records: [ownWild, acme], now: 61 * DAY });
  assert.deepEqual(later.steps, [{ do: 'issue', domain: 'www.shop.test', app: 'shop', reason: 'renewal' }]);
  assert.deepEqual(later.serve.map((c) => c.domain), ['www.shop.test']);
  // An own certificate stored under the very name: nothing for ACME, and its record is the user's.
  assert.deepEqual(planCertificates({ wanted: want(['shop.test', 'shop']), records: [own('shop.test', DAY)], now: 0 }).steps, []);
});

test('covers: exact names, and one label under a wildcard', () => {
  assert.ok(covers('a.test', 'a.test'));
  assert.ok(covers('*.a.test', 'x.a.test'));
  assert.ok(!covers('*.a.test', 'a.test'));
  assert.ok(!covers('*.a.test', 'y.x.a.test'));
  assert.ok(!covers('*.a.test', 'xa.test'));
  assert.ok(!covers('a.test', 'b.a.test'));
});

test('a domain no app lists keeps its certificate, served and not renewed, until it expires; then it goes', () => {
  const record = acmeIssued('gone.test', 'a', 0, 90 * DAY);
  const kept = planCertificates({ wanted: [], records: [record], now: 70 * DAY });
  assert.deepEqual(kept.steps, [], 'past its renewal time, but nobody lists it: not renewed');
  assert.equal(kept.serve.length, 1);
  assert.deepEqual(planCertificates({ wanted: [], records: [record], now: 90 * DAY }).steps, [{ do: 'remove', domain: 'gone.test', reason: 'no app lists it, and its certificate expired' }]);
  // Listed again (a rollback): renewed at once, since it is past two thirds.
  assert.deepEqual(planCertificates({ wanted: want(['gone.test', 'a']), records: [record], now: 70 * DAY }).steps, [{ do: 'issue', domain: 'gone.test', app: 'a', reason: 'renewal' }]);
  // Nothing held: removed at once (a pending request, a failed one, a held wildcard).
  const pending = failed(undefined, 'p.test', 'a', { code: 'ACME_DNS', message: 'x', retryAfterMs: null }, 0, 0);
  const wildcard = held(undefined, '*.w.test', 'a', { code: 'ACME_WILDCARD', message: 'x' }, 0);
  assert.deepEqual(planCertificates({ wanted: [], records: [pending, wildcard], now: 1 }).steps.map((s) => s.do), ['remove', 'remove']);
  // Own certificates are the user's: never removed by the plan.
  assert.deepEqual(planCertificates({ wanted: [], records: [own('o.test', 1)], now: 5 }).steps, []);
});

test('the domain moves to another app: the record is adopted, nothing is asked of the CA', () => {
  const record = acmeIssued('a.test', 'old', 0, 90 * DAY);
  assert.deepEqual(planCertificates({ wanted: want(['a.test', 'new']), records: [record], now: DAY }).steps, [{ do: 'adopt', domain: 'a.test', app: 'new' }]);
});

test('the served set: issued and not expired, own and ACME, each for its own name', () => {
  const records = [acmeIssued('a.test', 'a', 0, 10 * DAY), acmeIssued('old.test', 'a', 0, DAY), started(undefined, 'new.test', 'a', 0), own('o.test', 10 * DAY)];
  assert.deepEqual(planCertificates({ wanted: [], records, now: 2 * DAY }).serve, [
    { domain: 'a.test', source: 'acme', hosts: ['a.test'], notAfter: 10 * DAY },
    { domain: 'o.test', source: 'own', hosts: ['o.test'], notAfter: 10 * DAY },
  ]);
});
