/**
 * The registry client against a real Distribution registry (no auth; ./client-auth.test.ts and
 * ./client-token.test.ts do Basic and Bearer), and against small servers on loopback that misbehave in
 * the ways a registry on the internet can: no answer, not HTTP, wrong or missing digests, huge answers,
 * untrusted TLS, error statuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type ErrorCode } from '../errors/catalogue.ts';
import { registrySuite, startRegistry, type TestRegistry } from '../../test/support/registry.ts';
import { toolSuite } from '../../test/support/tools.ts';
import { MANIFEST_MEDIA_TYPES, RegistryClient } from './client.ts';
import { parseReference } from './reference.ts';
import { registryContract } from './registry.contract.test-support.ts';

const suite = await registrySuite('none');

describe('a real registry without auth', { skip: suite.skip }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  registryContract('real client, open registry', { login: false }, () => ({
    port: client,
    domain: registry.host,
    push: (target) => registry.pushFresh(target),
    credentials: undefined,
  }));

  test('the digest is the one `docker push` reported, with the manifest type the engine pushed', async () => {
    const digest = await registry.pushFresh('team/app:1.0');
    const resolved = await client.resolveDigest(parseReference(registry.ref('team/app:1.0')));
    assert.equal(resolved.digest, digest);
    assert.equal(resolved.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  test('the registry says which is unknown: the repository or the tag', async () => {
    await registry.pushFresh('team/known:1');
    await expectError(client.resolveDigest(parseReference(registry.ref('team/known:2'))), 'IMAGE_NOT_FOUND', /the repository team\/known has no tag 2/);
    await expectError(client.resolveDigest(parseReference(registry.ref('team/unknown:1'))), 'IMAGE_NOT_FOUND', new RegExp(`image ${registry.host}/team/unknown:1 was not found on ${registry.host}: .*team/unknown`));
  });
});

describe('registries that misbehave', () => {
  let stub: Stub;
  let client: RegistryClient;
  before(async () => {
    stub = await startStub();
    client = new RegistryClient({ timeoutMs: 2_000 });
  });
  after(async () => {
    client.close();
    await stub.close();
  });

  const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPES[3], config: {}, layers: [] }));
  const SHA = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

  test('the Accept header lists the OCI index and manifest and Docker\'s list and v2 manifest', async () => {
    stub.handle = (req, res) => res.writeHead(200, { 'docker-content-digest': SHA, 'content-type': MANIFEST_MEDIA_TYPES[0] }).end();
    const resolved = await client.resolveDigest(parseReference(`${stub.domain}/a/b:1`));
    assert.equal(resolved.digest, SHA);
    assert.equal(resolved.mediaType, MANIFEST_MEDIA_TYPES[0]);
    const head = stub.seen.at(-1)!;
    assert.equal(head.method, 'HEAD');
    assert.equal(head.url, '/v2/a/b/manifests/1');
    assert.deepEqual(head.accept!.split(/,\s*/), [...MANIFEST_MEDIA_TYPES]);
  });

  test('without Docker-Content-Digest on HEAD, the manifest is fetched and hashed', async () => {
    stub.handle = (req, res) => res.writeHead(200, { 'content-type': MANIFEST_MEDIA_TYPES[3] }).end(req.method === 'GET' ? MANIFEST : undefined);
    const resolved = await client.resolveDigest(parseReference(`${stub.domain}/a/b:1`));
    assert.equal(resolved.digest, SHA);
    assert.deepEqual(stub.seen.slice(-2).map((r) => r.method), ['HEAD', 'GET']);
  });

  test('a registry without HEAD (405) is asked with GET', async () => {
    stub.handle = (req, res) => (req.method === 'HEAD' ? res.writeHead(405).end() : res.writeHead(200, { 'docker-content-digest': SHA }).end(MANIFEST));
    assert.equal((await client.resolveDigest(parseReference(`${stub.domain}/a/b:1`))).digest, SHA);
  });

  test('a manifest that does not match its stated digest is refused', async () => {
    const other = `sha256:${'1'.repeat(64)}`;
    stub.handle = (req, res) => res.writeHead(req.method === 'HEAD' ? 405 : 200, { 'docker-content-digest': other }).end(req.method === 'GET' ? MANIFEST : undefined);
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /does not match the digest it states/);
  });

  test('a Docker-Content-Digest that is not a digest is refused', async () => {
    stub.handle = (req, res) => res.writeHead(200, { 'docker-content-digest': 'sha256:not-hex' }).end();
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /Docker-Content-Digest header is not a digest/);
  });

  test('a pinned reference answered with another digest is refused', async () => {
    stub.handle = (req, res) => res.writeHead(200, { 'docker-content-digest': SHA }).end();
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b@sha256:${'2'.repeat(64)}`)), 'REGISTRY_ERROR', /asked for sha256:2222.*answered with sha256:/);
    assert.equal(stub.seen.at(-1)!.url, `/v2/a/b/manifests/sha256:${'2'.repeat(64)}`);
  });

  test('a manifest over 4 MiB is not read, declared or streamed', async () => {
    stub.handle = (req, res) => (req.method === 'HEAD' ? res.writeHead(200).end() : res.writeHead(200, { 'content-length': String(5 * 1024 * 1024) }).end());
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /5242880 bytes, more than the 4194304 accepted/);
    stub.handle = (req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200).end();
      res.writeHead(200); // chunked: no length said
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 5; i++) res.write(chunk);
      res.end();
    };
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /more than the 4194304 bytes accepted/);
  });

  const statuses: [number, ErrorCode, RegExp][] = [
    [503, 'REGISTRY_UNREACHABLE', /answered HTTP 503 Service Unavailable: it is down or overloaded/],
    [502, 'REGISTRY_UNREACHABLE', /HTTP 502/],
    [500, 'REGISTRY_ERROR', /answered HTTP 500 Internal Server Error/],
    [429, 'REGISTRY_ERROR', /too many requests from this server \(429\); it asks to wait 30 s/],
    [403, 'REGISTRY_AUTH_FAILED', /it needs a login \(HTTP 403 Forbidden\)/],
    [418, 'REGISTRY_ERROR', /answered HTTP 418/],
  ];
  for (const [status, code, message] of statuses) {
    test(`HTTP ${status} is ${code}`, async () => {
      stub.handle = (req, res) => res.writeHead(status, { 'retry-after': '30' }).end();
      await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), code, message);
    });
  }

  test('a 401 without a challenge, or with a token service that is not HTTPS, is refused before any credentials leave', async () => {
    stub.handle = (req, res) => res.writeHead(401).end();
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /401 without a Bearer or Basic challenge/);
    stub.handle = (req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://registry.example/token",service="x"' }).end();
    await expectError(
      client.resolveDigest(parseReference(`${stub.domain}/a/b:1`), { credentials: { username: 'u', password: 'secret' } }),
      'REGISTRY_ERROR',
      /token service http:\/\/registry\.example is not HTTPS/,
    );
    stub.handle = (req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="not a url"' }).end();
    await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), 'REGISTRY_ERROR', /no valid token service address/);
  });

  test('a token service that answers nonsense is REGISTRY_ERROR; one that refuses is REGISTRY_AUTH_FAILED', async () => {
    const answers: [number, string, ErrorCode, RegExp][] = [
      [200, 'not json', 'REGISTRY_ERROR', /not JSON/],
      [200, '{"expires_in":300}', 'REGISTRY_ERROR', /without a token/],
      [200, JSON.stringify({ token: 'abc\r\nX-Evil: 1' }), 'REGISTRY_ERROR', /not printable ASCII/],
      [500, '', 'REGISTRY_ERROR', /its token service 127\.0\.0\.1:\d+ answered HTTP 500/],
      [401, '', 'REGISTRY_AUTH_FAILED', /its token service refused anonymous access/],
    ];
    for (const [status, body, code, message] of answers) {
      stub.handle = (req, res) => {
        if (req.url!.startsWith('/token')) return res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${stub.domain}/token",service="stub"` }).end();
      };
      await expectError(client.resolveDigest(parseReference(`${stub.domain}/a/b:1`)), code, message);
    }
  });

  test('a registry that accepts the connection but never answers is REGISTRY_UNREACHABLE within the timeout', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      await expectError(
        new RegistryClient({ timeoutMs: 500 }).resolveDigest(parseReference(`${silent.domain}/team/app:1`)),
        'REGISTRY_UNREACHABLE',
        new RegExp(`cannot reach registry ${silent.domain} for ${silent.domain}/team/app:1: no answer within 0.5 s`),
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 3_000, `took ${elapsed} ms`);
      assert.equal(silent.connections(), 1, 'it did connect: the registry hung');
    } finally {
      await silent.close();
    }
  });

  test('a refused connection, or a peer that does not speak HTTP', async () => {
    const port = await closedPort();
    await expectError(client.resolveDigest(parseReference(`127.0.0.1:${port}/a:1`)), 'REGISTRY_UNREACHABLE', /connection refused/);
    const garbage = await silentServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
    try {
      await expectError(client.resolveDigest(parseReference(`${garbage.domain}/a:1`)), 'REGISTRY_ERROR', /the answer is not HTTP/);
    } finally {
      await garbage.close();
    }
  });

  test('an aborted call stops at once with the abort reason, not a registry error', async () => {
    const silent = await silentServer();
    try {
      const controller = new AbortController();
      const reason = new Error('shutting down');
      setTimeout(() => controller.abort(reason), 100);
      const started = Date.now();
      await assert.rejects(new RegistryClient({ timeoutMs: 10_000 }).resolveDigest(parseReference(`${silent.domain}/a:1`), { signal: controller.signal }), (error) => error === reason);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await silent.close();
    }
  });
});

const openssl = toolSuite('openssl', 'openssl');

describe('HTTPS registries', { skip: openssl.skip }, () => {
  let dir: string;
  let server: Server;
  let domain: string;
  let cert: string;
  const SHA = `sha256:${'3'.repeat(64)}`;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-registry-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => res.writeHead(200, { 'docker-content-digest': SHA }).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    domain = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('an untrusted certificate is REGISTRY_UNREACHABLE with the CA hint; trusting its CA works', async () => {
    const untrusting = new RegistryClient({ plainHttp: () => false });
    try {
      await assert.rejects(untrusting.resolveDigest(parseReference(`${domain}/a:1`)), (error) => {
        assert.ok(isBerthError(error));
        assert.equal(error.code, 'REGISTRY_UNREACHABLE');
        assert.match(error.message, /TLS failed: self[- ]signed certificate/);
        assert.match(error.hint!, /NODE_EXTRA_CA_CERTS/);
        return true;
      });
    } finally {
      untrusting.close();
    }
    const trusting = new RegistryClient({ plainHttp: () => false, ca: [cert] });
    try {
      assert.equal((await trusting.resolveDigest(parseReference(`${domain}/a:1`))).digest, SHA);
    } finally {
      trusting.close();
    }
  });

  test('a loopback registry is plain HTTP by default: speaking HTTP to a TLS port is not HTTP back', async () => {
    const client = new RegistryClient({ timeoutMs: 2_000 });
    try {
      await assert.rejects(client.resolveDigest(parseReference(`${domain}/a:1`)), (error) => isBerthError(error) && /REGISTRY_(ERROR|UNREACHABLE)/.test(error.code));
    } finally {
      client.close();
    }
  });
});

async function expectError(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isBerthError(error), `not a BerthError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

interface Stub {
  domain: string;
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  seen: { method: string; url: string; accept: string | undefined; authorization: string | undefined }[];
  close(): Promise<void>;
}

async function startStub(): Promise<Stub> {
  const stub = {
    domain: '',
    handle: (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(404).end(),
    seen: [] as Stub['seen'],
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((req, res) => {
    stub.seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept, authorization: req.headers.authorization });
    stub.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.domain = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

/** A TCP server that accepts and never answers (or does what `onConnection` says). */
async function silentServer(onConnection?: (socket: Socket) => void): Promise<{ domain: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: NetServer = createNetServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    domain: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
