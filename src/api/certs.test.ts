/**
 * /v1/certs through the real API (auth, routing, input checks, error answers) over a real store, with
 * certificates the real openssl made: an own certificate is checked before anything is saved, stored with
 * its key sealed, listed, shown with its chain, replaced, renewed (ACME only) and removed, the certificate
 * manager woken after each change. The key, planted with a marker, never shows in an answer, a log line,
 * an event, or any file of the data directory in the clear.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { makeCertFactory, type CertFactory, type PemPair } from '../certs/own-certs.test-support.ts';
import { createLogger } from '../lib/log.ts';
import { wireIssues } from '../model/wire-check.ts';
import { inject, startApi, type InjectReply, type TestApi } from './inject.test-support.ts';
import type { OperationName } from './operations.ts';
import { responses, type Responses } from './responses.ts';
import { createApiServer } from './server.ts';

const MARKER = 'berth-key-marker-5f0c2a';

describe('certificates through the API', () => {
  let api: TestApi;
  let server: Server;
  let certs: CertFactory;
  let shop: PemPair;
  let keyFile: string;
  const logged: string[] = [];
  const answers: InjectReply[] = [];
  let wakes = 0;

  before(async () => {
    api = await startApi();
    certs = makeCertFactory();
    shop = certs.leaf({ hosts: ['shop.example.com'] });
    // The key file as a user might hold it: a line of notes above the block (skipped when read, but part of what was sent).
    keyFile = `${MARKER}\n${shop.keyPem}`;
    const log = createLogger({ sink: { write: (line: string) => logged.push(line) }, level: 'debug' });
    server = createApiServer({ ...api.deps, ctx: { ...api.deps.ctx, log }, certificates: { wake: () => void wakes++ } });
  });
  after(async () => {
    certs?.close();
    await api?.close();
  });

  const call = async (method: string, url: string, body?: unknown) => {
    const reply = await inject(server, { method, url, headers: { authorization: `Bearer ${api.token}` }, ...(body === undefined ? {} : { body }) });
    answers.push(reply);
    return reply;
  };
  const add = (body: unknown) => call('POST', '/v1/certs', body);
  const stored = () => api.kit.ctx.store.certificates.list().map((c) => `${c.domain} ${c.source}`);
  /** The answer fits the document's shape for its operation and status. */
  const fits = (name: OperationName, reply: InjectReply) => {
    const spec = (responses[name] as Responses)[reply.status as 200];
    assert.ok(spec?.json, `${name} answered ${reply.status}: ${reply.text}`);
    assert.deepEqual(wireIssues(spec.json, reply.body, name), []);
  };
  const refused = (reply: InjectReply, status: number, code: string) => {
    assert.equal(reply.status, status, reply.text);
    assert.equal(reply.body.error.code, code, reply.text);
  };

  test('bad requests are refused before anything is checked or saved', async () => {
    const chain = certs.chainOf(shop);
    refused(await add({ domain: 'shop.example.com', cert: chain }), 400, 'REQUEST_INVALID');
    refused(await add({ domain: 'shop.example.com', cert: chain, key: keyFile, password: 'x' }), 400, 'REQUEST_INVALID');
    refused(await add({ domain: 'shop.example.com', cert: 42, key: keyFile }), 400, 'REQUEST_INVALID');
    refused(await add({ domain: 'shop.example.com', cert: 'x'.repeat(64 * 1024 + 1), key: keyFile }), 400, 'REQUEST_INVALID');
    refused(await add({ domain: 'localhost', cert: chain, key: keyFile }), 400, 'CERT_DOMAIN_INVALID');
    // Past 256 KiB the body is not even read (the API's other JSON bodies may take 1 MiB).
    refused(await add({ domain: 'shop.example.com', cert: chain, key: keyFile, pad: ' '.repeat(256 * 1024) }), 413, 'BODY_TOO_LARGE');
    assert.deepEqual(stored(), []);
    assert.equal(wakes, 0);
  });

  test('a certificate berth cannot use: its code, the status 422, nothing saved', async () => {
    const expired = certs.leaf({ hosts: ['shop.example.com'], notBefore: new Date(Date.now() - 90 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), issuer: 'self' });
    const other = certs.leaf({ hosts: ['other.example.com'] });
    const cases: [unknown, string][] = [
      [{ domain: 'shop.example.com', cert: 'not a certificate', key: keyFile }, 'CERT_INVALID'],
      [{ domain: 'shop.example.com', cert: certs.chainOf(shop), key: 'not a key' }, 'CERT_KEY_INVALID'],
      [{ domain: 'shop.example.com', cert: certs.chainOf(shop), key: certs.encrypt(shop.keyPem, 'pkcs8') }, 'CERT_KEY_ENCRYPTED'],
      [{ domain: 'shop.example.com', cert: certs.chainOf(other), key: keyFile }, 'CERT_KEY_MISMATCH'],
      [{ domain: 'other.example.com', cert: certs.chainOf(shop), key: keyFile }, 'CERT_NAME_MISMATCH'],
      [{ domain: 'shop.example.com', cert: expired.certPem, key: expired.keyPem }, 'CERT_EXPIRED'],
      [{ domain: 'shop.example.com', cert: certs.intermediate.certPem + shop.certPem, key: keyFile }, 'CERT_CHAIN_ORDER'],
    ];
    for (const [body, code] of cases) {
      const reply = await add(body);
      refused(reply, 422, code);
      assert.ok(reply.body.error.hint, `${code} says what to do`);
    }
    const encrypted = answers.find((a) => a.body?.error?.code === 'CERT_KEY_ENCRYPTED')!;
    assert.match(encrypted.body.error.hint, /openssl pkey -in key\.pem -out plain\.pem/);
    assert.deepEqual(stored(), []);
    assert.equal(wakes, 0);
  });

  test('added: 201 with the certificate (no key), stored sealed, the manager woken', async () => {
    const reply = await add({ domain: 'shop.example.com', cert: certs.chainOf(shop), key: keyFile });
    assert.equal(reply.status, 201, reply.text);
    fits('addCert', reply);
    assert.equal(reply.body.replaced, null);
    const { certificate } = reply.body;
    assert.deepEqual(
      [certificate.domain, certificate.source, certificate.status, certificate.issuer, certificate.renewAt],
      ['shop.example.com', 'own', 'issued', 'Berth Test Intermediate', null],
    );
    assert.ok(!/key|chain|pem/i.test(Object.keys(certificate).join(' ')), Object.keys(certificate).join(' '));
    assert.equal(wakes, 1);
    const row = api.kit.ctx.store.certificates.get('shop.example.com')!;
    assert.ok(row.keySealed && !row.keySealed.includes(MARKER));
    assert.match(api.kit.ctx.sealer.open(row.keySealed), /^-----BEGIN PRIVATE KEY-----/);
  });

  test('list and get: the list without chains, one certificate with its chain; neither with a key', async () => {
    const list = await call('GET', '/v1/certs');
    assert.equal(list.status, 200);
    fits('listCerts', list);
    assert.deepEqual(list.body.certificates.map((c: { domain: string }) => c.domain), ['shop.example.com']);
    assert.ok(!list.text.includes('BEGIN'), 'no PEM in the list');
    const one = await call('GET', '/v1/certs/Shop.Example.com');
    assert.equal(one.status, 200, one.text);
    fits('getCert', one);
    assert.match(one.body.chain, /^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN CERTIFICATE-----/);
    assert.ok(!one.text.includes('PRIVATE'), one.text);
    refused(await call('GET', '/v1/certs/none.example.com'), 404, 'CERT_NOT_FOUND');
    refused(await call('GET', '/v1/certs/not%20a%20domain'), 400, 'CERT_DOMAIN_INVALID');
  });

  test('a wildcard certificate, by `*` or `%2A` in the path; adding again replaces (200)', async () => {
    const wildcard = certs.leaf({ hosts: ['*.example.com'] });
    const first = await add({ domain: '*.example.com', cert: certs.chainOf(wildcard), key: wildcard.keyPem });
    assert.equal(first.status, 201, first.text);
    const again = await add({ domain: '*.example.com', cert: certs.chainOf(wildcard), key: wildcard.keyPem });
    assert.equal(again.status, 200, again.text);
    fits('addCert', again);
    assert.equal(again.body.replaced, 'own');
    assert.equal((await call('GET', '/v1/certs/*.example.com')).body.domain, '*.example.com');
    assert.equal((await call('GET', '/v1/certs/%2A.example.com')).body.domain, '*.example.com');
    assert.equal(wakes, 3);
  });

  test('renew: 202 for an ACME certificate of a listed domain (due now, manager woken); 409 for an own one', async () => {
    await api.deploy('web', 'name: web\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndomains:\n  - acme.test\n');
    const now = Date.now();
    api.kit.ctx.store.certificates.save({
      domain: 'acme.test', source: 'acme', app: 'web', status: 'issued', certPem: certs.chainOf(shop), keySealed: api.kit.ctx.sealer.seal('acme key'),
      issuer: 'Pebble Intermediate', notBefore: now - 1000, notAfter: now + 90 * 86_400_000, renewAt: now + 60 * 86_400_000,
      lastError: null, attempts: 0, nextAttemptAt: null, createdAt: now - 1000, updatedAt: now - 1000,
    });
    const before = wakes;
    const renewed = await call('POST', '/v1/certs/acme.test/renew');
    assert.equal(renewed.status, 202, renewed.text);
    fits('renewCert', renewed);
    assert.ok(Date.parse(renewed.body.renewAt) >= now && Date.parse(renewed.body.renewAt) <= Date.now(), renewed.body.renewAt);
    assert.equal(wakes, before + 1);
    const own = await call('POST', '/v1/certs/shop.example.com/renew');
    refused(own, 409, 'CERT_NOT_RENEWABLE');
    assert.match(own.body.error.hint, /berth certs add shop\.example\.com/);
    refused(await call('POST', '/v1/certs/gone.example.com/renew'), 404, 'CERT_NOT_FOUND');
    refused(await call('POST', '/v1/certs/acme.test/renew', { now: true }), 400, 'REQUEST_INVALID');
  });

  test('remove: 200 with its source, the app still listing it, and whether ACME is asked again; a second remove is 404', async () => {
    const before = wakes;
    const acme = await call('DELETE', '/v1/certs/acme.test');
    assert.equal(acme.status, 200, acme.text);
    fits('removeCert', acme);
    assert.deepEqual(acme.body, { removed: 'acme.test', source: 'acme', listedBy: 'web', acme: true });
    const own = await call('DELETE', '/v1/certs/shop.example.com');
    assert.deepEqual(own.body, { removed: 'shop.example.com', source: 'own', listedBy: null, acme: false });
    assert.equal(wakes, before + 2);
    refused(await call('DELETE', '/v1/certs/shop.example.com'), 404, 'CERT_NOT_FOUND');
    assert.deepEqual(stored(), ['*.example.com own']);
  });

  test('no answer, log line, event or file of the data directory carries the key in the clear', () => {
    assert.ok(answers.length > 25);
    assert.ok(logged.some((line) => line.includes('own certificate added')), 'the addition is logged (without its key)');
    // The marker, and the key's own base64 lines (as sent, and as PKCS#8, the form berth keeps).
    const keyLines = (pem: string) => pem.split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line));
    const secrets = [MARKER, ...keyLines(shop.keyPem), ...keyLines(api.kit.ctx.sealer.open(api.kit.ctx.store.certificates.get('*.example.com')!.keySealed!))];
    assert.ok(secrets.length >= 3);
    const events = JSON.stringify(api.kit.ctx.store.db.all<Record<string, unknown>>('SELECT * FROM events'));
    for (const secret of secrets) {
      for (const reply of answers) assert.ok(!reply.text.includes(secret), `no key in: ${reply.text.slice(0, 300)}`);
      for (const line of logged) assert.ok(!line.includes(secret), `no key in the log: ${line}`);
      assert.ok(!events.includes(secret), 'no key in an event');
      for (const file of filesUnder(api.kit.dir)) assert.ok(!readFileSync(file).includes(secret), `no key in ${file}`);
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
