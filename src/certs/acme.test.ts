/**
 * The ACME authority against a real CA (pebble, validating HTTP-01 against a real HTTP server that serves
 * what the authority hands to `onChallenge`), and against CAs that misbehave: one that is not there, one
 * that hangs, one whose certificate is not trusted, one that rate-limits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type BerthError } from '../errors/catalogue.ts';
import { systemClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from '../store/store.ts';
import { pebbleTools, selfSignedLoopback, startPebble, type Pebble } from '../../test/support/pebble.ts';
import { AcmeAuthority, type AcmeAuthorityOptions } from './acme.ts';
import type { IssueOptions } from './authority.ts';

const tools = pebbleTools();
const sealer = createSealer(Buffer.alloc(32, 7));

describe('ACME authority', { skip: tools.skip || false }, () => {
  let pebble: Pebble;
  let dir: string;
  let store: Store;
  /** Challenge answers the test's HTTP server (pebble's httpPort) serves; `serve: false` answers 404 to everything. */
  const answers = new Map<string, string>();
  let serve = true;
  let http: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-acme-'));
    store = new Store(join(dir, 'berth.db'));
    http = createServer((req, res) => {
      const token = req.url?.match(/^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/)?.[1];
      const answer = serve && token ? answers.get(token) : undefined;
      res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not found');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    pebble = await startPebble({ httpPort: (http.address() as { port: number }).port });
  });
  after(async () => {
    await pebble?.close();
    http?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const authority = (over: Partial<AcmeAuthorityOptions> = {}) =>
    new AcmeAuthority({ directoryUrl: pebble.directoryUrl, email: 'ops@example.com', ca: readFileSync(pebble.caFile, 'utf8'), store, sealer, clock: systemClock, log: silentLogger, ...over });
  const published: string[] = [];
  const issueOptions = (signal = AbortSignal.timeout(60_000)): IssueOptions => ({
    signal,
    onChallenge: async ({ token, keyAuthorization }) => {
      answers.set(token, keyAuthorization);
      published.push(token);
      return async () => void answers.delete(token);
    },
  });

  test('pebble issues a certificate for the name after validating the answer it was handed; the account is kept sealed', async () => {
    const orders = pebble.orders();
    const { certPem, keyPem } = await authority().issue(['app.test'], issueOptions());
    assert.equal(pebble.orders(), orders + 1, 'one order reached pebble (as its log says)');
    const chain = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem));
    assert.ok(chain.length >= 2, 'leaf and intermediate');
    assert.equal(chain[0].subjectAltName, 'DNS:app.test');
    assert.ok(chain[0].checkPrivateKey(createPrivateKey(keyPem)), 'the key is the leaf\'s');
    assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(chain[0].verify(chain[1].publicKey) && chain.at(-1)!.verify(new X509Certificate(pebble.issuingRoot).publicKey), 'chains to pebble\'s issuing root');
    assert.equal(answers.size, 0, 'every published answer was taken down');
    const account = store.acmeAccounts.get(pebble.directoryUrl)!;
    assert.match(account.url!, /^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
    assert.equal(account.email, 'ops@example.com');
    assert.doesNotMatch(account.keySealed, /PRIVATE KEY/);
    assert.match(sealer.open(account.keySealed), /BEGIN PRIVATE KEY/);
    // The second certificate uses the same account, and a fresh key.
    const second = await authority().issue(['app.test'], issueOptions());
    assert.equal(store.acmeAccounts.get(pebble.directoryUrl)!.keySealed, account.keySealed);
    assert.notEqual(second.keyPem, keyPem);
  });

  test('a challenge berth cannot answer: ACME_REFUSED with what pebble saw, and the answer taken down', async () => {
    serve = false;
    try {
      const error = await failure(authority().issue(['nobody-answers.test'], issueOptions()));
      assert.equal(error.code, 'ACME_REFUSED');
      assert.match(error.message, /nobody-answers\.test: its HTTP-01 challenge failed: .*(404|unauthorized|key authorization)/i);
      assert.equal(answers.size, 0);
    } finally {
      serve = true;
    }
  });

  test('a CA that is not there, or whose certificate is not trusted: ACME_CA_UNREACHABLE saying which', async () => {
    const closed = await failure(authority({ directoryUrl: 'https://127.0.0.1:1/dir' }).issue(['a.test'], issueOptions()));
    assert.equal(closed.code, 'ACME_CA_UNREACHABLE');
    assert.match(closed.message, /https:\/\/127\.0\.0\.1:1\/dir: the connection was refused/);
    const untrusted = await failure(authority({ ca: null }).issue(['a.test'], issueOptions()));
    assert.equal(untrusted.code, 'ACME_CA_UNREACHABLE');
    assert.match(untrusted.message, /TLS certificate is not trusted/);
    assert.match(untrusted.hint!, /--acme-ca/);
  });

  test('a CA that hangs fails within the bounds, holding nothing up', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const directoryUrl = `https://127.0.0.1:${(silent.address() as { port: number }).port}/dir`;
      const started = Date.now();
      const perRequest = await failure(authority({ directoryUrl, requestTimeoutMs: 300 }).issue(['a.test'], issueOptions()));
      assert.equal(perRequest.code, 'ACME_CA_UNREACHABLE');
      assert.match(perRequest.message, /no answer within 300 ms/);
      const whole = await failure(authority({ directoryUrl, requestTimeoutMs: 60_000, deadlineMs: 400 }).issue(['a.test'], issueOptions()));
      assert.equal(whole.code, 'ACME_CA_UNREACHABLE');
      assert.match(whole.message, /no certificate within 400 ms/);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      // The caller's own signal (the daemon stopping) ends it as an abort, not as a CA failure.
      const stop = new AbortController();
      const pending = authority({ directoryUrl, requestTimeoutMs: 60_000 }).issue(['a.test'], issueOptions(stop.signal));
      stop.abort(new Error('stopping'));
      await assert.rejects(pending, /stopping/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('a rate limit: ACME_RATE_LIMITED with the CA\'s words and its Retry-After, at once (nothing sleeps it out)', async () => {
    const { certPem, keyPem } = selfSignedLoopback();
    const ca = createHttpsServer({ cert: certPem, key: keyPem }, (req, res) => {
      const base = `https://127.0.0.1:${(ca.address() as { port: number }).port}`;
      if (req.url === '/dir') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order` }));
      if (req.url === '/nonce') return res.writeHead(200, { 'replay-nonce': 'bm9uY2Vub25jZW5vbmNl', 'cache-control': 'no-store' }).end();
      req.resume();
      res
        .writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '7200', 'replay-nonce': 'bm9uY2Vub25jZW5vbmNm' })
        .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new accounts from this address', status: 429 }));
    });
    await new Promise<void>((resolve) => ca.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const directoryUrl = `https://127.0.0.1:${(ca.address() as { port: number }).port}/dir`;
      const error = await failure(authority({ directoryUrl, ca: certPem }).issue(['a.test'], issueOptions()));
      assert.equal(error.code, 'ACME_RATE_LIMITED');
      assert.match(error.message, /a\.test for now \(rate limit\): too many new accounts from this address/);
      assert.equal(error.details?.retryAfterMs, 7_200_000);
      assert.match(error.hint!, /after \d{4}-\d\d-\d\dT/);
      assert.ok(Date.now() - started < 5000, 'the Retry-After was not slept out');
    } finally {
      ca.close();
    }
  });
});

async function failure(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isBerthError(error), `not a catalogue error: ${(error as Error)?.stack ?? error}`);
    return error;
  }
  return assert.fail('it succeeded');
}
