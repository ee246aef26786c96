/**
 * `berth certs [list|add|remove|renew]` through main() against a real HTTP server playing the API: the
 * table it prints, what `add` reads (bounded, relative to the working directory, the key from stdin with
 * `--key -`) and sends, and that the key is never printed, not even in an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Certificate, CertificateAdded } from '../../model/wire.ts';
import { sendJson, startFakeApi, testIo, withTempDir, type FakeApi, type Handler, type TestIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

const DAY = 86_400_000;
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHsecret-key-material-4d2e\n-----END PRIVATE KEY-----\n';
const SECRET = 'secret-key-material-4d2e';

/** A certificate as the API lists it, expiring `days` from now (plus an hour, so the whole days are stable). */
function cert(over: Partial<Certificate> & { days?: number } = {}): Certificate {
  const { days = 63, ...rest } = over;
  const notAfter = new Date(Date.now() + days * DAY + 3_600_000).toISOString();
  return {
    domain: 'shop.example.com', source: 'acme', app: 'shop', status: 'issued', issuer: 'R11', notBefore: '2026-01-01T00:00:00.000Z', notAfter,
    renewAt: null, lastError: null, attempts: 0, nextAttemptAt: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...rest,
  };
}

async function berth(argv: string[], routes: Record<string, Handler>, options: { stdin?: string; files?: Record<string, string | Buffer> } = {}): Promise<{ code: number; io: TestIo; api: FakeApi }> {
  const api = await startFakeApi(routes);
  try {
    return await withTempDir(async (home) => {
      for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(home, name), content);
      const io = testIo({ env: { BERTH_URL: api.url, BERTH_TOKEN: 'tok', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), NO_COLOR: '1' }, cwd: home, stdin: options.stdin });
      return { code: await main(argv, io), io, api };
    });
  } finally {
    await api.close();
  }
}

const printed = (io: TestIo) => io.stdout.text + io.stderr.text;
const added = (over: Partial<CertificateAdded> = {}): CertificateAdded => ({ certificate: cert({ source: 'own', app: null, issuer: 'Acme Corp CA', days: 200 }), replaced: null, ...over });
const addRoute = (body: CertificateAdded, status = 201): Record<string, Handler> => ({ 'POST /v1/certs': (_req, res) => sendJson(res, status, body) });

test('list: domain, source, status, issuer, expiry with how long from now, app, last error', async () => {
  const list = [
    cert(),
    cert({ domain: '*.example.com', source: 'own', app: null, issuer: 'Acme Corp CA', days: 5 }),
    cert({ domain: 'new.example.com', status: 'failed', issuer: null, notAfter: null, attempts: 2, nextAttemptAt: new Date(Date.now() + 3 * 3_600_000 + 60_000).toISOString(), lastError: { code: 'ACME_DNS', message: 'new.example.com does not resolve to this server\n\x1b[31mred' } }),
    cert({ domain: 'old.example.com', source: 'own', days: -4 }),
  ];
  const { code, io } = await berth(['certs'], { 'GET /v1/certs': (_req, res) => sendJson(res, 200, { certificates: list }) });
  assert.equal(code, 0, io.stderr.text);
  const lines = io.stdout.text.split('\n');
  assert.match(lines[0], /^DOMAIN +SOURCE +STATUS +ISSUER +EXPIRES +APP +LAST ERROR$/);
  assert.match(lines[1], /^shop\.example\.com +acme +issued +R11 +\d{4}-\d\d-\d\d \(in 63 days\) +shop +-$/);
  assert.match(lines[2], /^\*\.example\.com +own +issued +Acme Corp CA +\d{4}-\d\d-\d\d \(in 5 days\) +- +-$/);
  assert.match(lines[3], /^new\.example\.com +acme +failed, retry in 3 hours +- +- +shop +ACME_DNS: new\.example\.com does not resolve to this server \[31mred$/);
  assert.match(lines[4], /^old\.example\.com +own +issued +R11 +\d{4}-\d\d-\d\d \(expired 3 days ago\) +shop +-$/);
  assert.ok(!io.stdout.text.includes('\x1b'), 'no escape sequence from a CA reaches the terminal');

  const json = await berth(['certs', 'list', '--json'], { 'GET /v1/certs': (_req, res) => sendJson(res, 200, { certificates: [list[0]] }) });
  assert.deepEqual(JSON.parse(json.io.stdout.text), { certificates: [list[0]] });
  const none = await berth(['certs'], { 'GET /v1/certs': (_req, res) => sendJson(res, 200, { certificates: [] }) });
  assert.match(none.io.stdout.text, /^no certificates: .*`berth certs add DOMAIN --cert FILE --key FILE`\n$/);
});

test('add: both files read relative to the working directory and sent as JSON; the key never printed', async () => {
  const { code, io, api } = await berth(['certs', 'add', 'shop.example.com', '--cert', 'fullchain.pem', '--key', 'privkey.pem'], addRoute(added()), { files: { 'fullchain.pem': CERT, 'privkey.pem': KEY } });
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests.length, 1);
  assert.deepEqual(JSON.parse(api.requests[0].body.toString()), { domain: 'shop.example.com', cert: CERT, key: KEY });
  assert.match(io.stdout.text, /^added your certificate for shop\.example\.com: issued by Acme Corp CA, expires \d{4}-\d\d-\d\d \(in 200 days\)\. The key is kept sealed/);
  assert.ok(!printed(io).includes(SECRET));
});

test('add --key -: the key from stdin; replacing an ACME certificate is said; --json prints the answer', async () => {
  const body = added({ replaced: 'acme' });
  const { code, io, api } = await berth(['certs', 'add', '*.example.com', '--cert', 'fullchain.pem', '--key', '-'], addRoute(body, 200), { files: { 'fullchain.pem': CERT }, stdin: KEY });
  assert.equal(code, 0, io.stderr.text);
  assert.equal(JSON.parse(api.requests[0].body.toString()).key, KEY);
  assert.match(io.stdout.text, /it replaces the certificate from ACME, which berth no longer renews for it/);
  const json = await berth(['certs', 'add', 'shop.example.com', '--cert', '-', '--key', 'privkey.pem', '--json'], addRoute(body, 200), { files: { 'privkey.pem': KEY }, stdin: CERT });
  assert.equal(JSON.parse(json.api.requests[0].body.toString()).cert, CERT);
  assert.deepEqual(JSON.parse(json.io.stdout.text), body);
  assert.ok(!printed(json.io).includes(SECRET));
});

test('add: a missing, empty, oversized or endless file is refused here, before anything is sent', async () => {
  const big = Buffer.alloc(64 * 1024 + 1, 'a');
  const cases: [string[], Record<string, string | Buffer>, RegExp, string?][] = [
    [['--cert', 'nope.pem', '--key', 'privkey.pem'], { 'privkey.pem': KEY }, /cannot read the certificate file nope\.pem: no such file/],
    [['--cert', 'fullchain.pem', '--key', 'nope.pem'], { 'fullchain.pem': CERT }, /cannot read the private key file nope\.pem: no such file/],
    [['--cert', 'fullchain.pem', '--key', 'empty.pem'], { 'fullchain.pem': CERT, 'empty.pem': '' }, /the private key file empty\.pem is empty/],
    [['--cert', 'big.pem', '--key', 'privkey.pem'], { 'big.pem': big, 'privkey.pem': KEY }, /big\.pem is larger than 64 KiB/],
    [['--cert', '/dev/zero', '--key', 'privkey.pem'], { 'privkey.pem': KEY }, /\/dev\/zero is larger than 64 KiB/],
    [['--cert', '.', '--key', 'privkey.pem'], { 'privkey.pem': KEY }, /cannot read the certificate file \./],
    [['--cert', 'fullchain.pem', '--key', '-'], { 'fullchain.pem': CERT }, /stdin is larger than 64 KiB/, 'k'.repeat(64 * 1024 + 1)],
  ];
  for (const [flags, files, message, stdin] of cases) {
    const started = Date.now();
    const { code, io, api } = await berth(['certs', 'add', 'shop.example.com', ...flags], addRoute(added()), { files, ...(stdin === undefined ? {} : { stdin }) });
    assert.equal(code, 2, `${flags.join(' ')}: ${io.stderr.text}`);
    assert.match(io.stderr.text, message);
    assert.equal(api.requests.length, 0, 'nothing sent');
    assert.ok(Date.now() - started < 5000);
    assert.ok(!printed(io).includes(SECRET));
  }
});

test('add refused by the server: its error and hint, exit 1, the key not repeated', async () => {
  const routes: Record<string, Handler> = {
    'POST /v1/certs': (_req, res) =>
      sendJson(res, 422, { error: { code: 'CERT_KEY_MISMATCH', message: 'the private key does not belong to the certificate (shop.example.com)', hint: 'give the key made with this certificate\'s request' } }),
  };
  const { code, io } = await berth(['certs', 'add', 'shop.example.com', '--cert', 'fullchain.pem', '--key', 'privkey.pem'], routes, { files: { 'fullchain.pem': CERT, 'privkey.pem': KEY } });
  assert.equal(code, 1);
  assert.match(io.stderr.text, /error: the private key does not belong to the certificate/);
  assert.match(io.stderr.text, /hint: give the key/);
  assert.ok(!printed(io).includes(SECRET));
});

test('remove: DELETE, then what happens to the domain; a wildcard travels as one path segment', async () => {
  const listed = await berth(['certs', 'remove', 'shop.example.com'], {
    'DELETE /v1/certs/shop.example.com': (_req, res) => sendJson(res, 200, { removed: 'shop.example.com', source: 'own', listedBy: 'shop', acme: true }),
  });
  assert.equal(listed.code, 0, listed.io.stderr.text);
  assert.equal(listed.io.stdout.text, 'removed your certificate for shop.example.com: app shop lists shop.example.com in its domains, so berth requests a new certificate from ACME for it\n');
  const wildcard = await berth(['certs', 'remove', '*.example.com'], {
    'DELETE /v1/certs/*.example.com': (_req, res) => sendJson(res, 200, { removed: '*.example.com', source: 'acme', listedBy: null, acme: false }),
  });
  assert.equal(wildcard.code, 0, wildcard.io.stderr.text);
  assert.equal(wildcard.io.stdout.text, 'removed the ACME certificate for *.example.com: no app lists it, so berth asks ACME nothing for it\n');
  const covered = await berth(['certs', 'remove', 'a.example.com'], {
    'DELETE /v1/certs/a.example.com': (_req, res) => sendJson(res, 200, { removed: 'a.example.com', source: 'acme', listedBy: 'shop', acme: false }),
  });
  assert.equal(covered.io.stdout.text, 'removed the ACME certificate for a.example.com: app shop lists it, but berth asks ACME nothing for it (a wildcard, or another of your certificates covers it)\n');
  const missing = await berth(['certs', 'remove', 'gone.example.com'], {
    'DELETE /v1/certs/gone.example.com': (_req, res) => sendJson(res, 404, { error: { code: 'CERT_NOT_FOUND', message: 'berth has no certificate for gone.example.com', hint: 'list them with `berth certs`' } }),
  });
  assert.equal(missing.code, 1);
  assert.match(missing.io.stderr.text, /berth has no certificate for gone\.example\.com/);
});

test('renew: POST, then what happens; --json prints the certificate', async () => {
  const routes: Record<string, Handler> = { 'POST /v1/certs/shop.example.com/renew': (_req, res) => sendJson(res, 202, cert()) };
  const { code, io, api } = await berth(['certs', 'renew', 'shop.example.com'], routes);
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests[0].method, 'POST');
  assert.match(io.stdout.text, /^renewal of shop\.example\.com asked for: berth requests a new certificate from ACME now/);
  const json = await berth(['certs', 'renew', 'shop.example.com', '--json'], routes);
  assert.equal(JSON.parse(json.io.stdout.text).domain, 'shop.example.com');
});

test('help: `berth certs --help` lists the subcommands, `berth certs add --help` the flags; a typo gets a suggestion', async () => {
  const overview = await berth(['certs', '--help'], {});
  assert.match(overview.io.stdout.text, /berth certs add <domain> --cert FILE --key FILE/);
  const add = await berth(['certs', 'add', '--help'], {});
  assert.match(add.io.stdout.text, /--key FILE +its private key, PEM, unencrypted \(`-`: read it from stdin\)/);
  const typo = await berth(['certs', 'renwe', 'x.example.com'], {});
  assert.equal(typo.code, 2);
  assert.match(typo.io.stderr.text, /did you mean `berth certs renew`\?/);
  const listed = await berth(['--help'], {});
  assert.match(listed.io.stdout.text, /\n  certs +List the TLS certificates, add your own, remove or renew one\.\n/);
});
