/**
 * A real image registry for tests: Debian's `docker-registry` (the Distribution registry, v2.8) on a
 * free loopback port, which the engine speaks plain HTTP to (127.0.0.0/8), with its data in a temp dir.
 * Start ONE per test file (it takes about a second) and stop it in `after`.
 *
 *   const suite = await registrySuite('htpasswd');          // { skip } without the package or an engine
 *   describe('...', { skip: suite.skip }, () => {
 *     let registry: TestRegistry;
 *     before(async () => (registry = await startRegistry({ auth: 'htpasswd' })));
 *     after(() => registry.stop());
 *     ... const digest = await registry.pushFresh('team/app:1');   // a new tiny image, its digest
 *     ... const digest = await registry.push(await ensureBusyboxImage(), 'team/box:1');
 *
 * Auth modes: `none`; `htpasswd` (Basic auth, a bcrypt entry made with `htpasswd -B` from apache2-utils);
 * `token` (the registry's own Bearer token auth: `tokens`, a small token service in this process, issues
 * RS256 JWTs signed by a throwaway certificate made with openssl, and counts what it issued).
 * Images are pushed with the real engine (Engine API, X-Registry-Auth), then untagged locally, so the
 * engine holds only what a test pulls. Without the package, htpasswd, openssl or an engine the tests
 * skip saying so; with BERTH_REQUIRE_TOOLS=1 / BERTH_REQUIRE_DOCKER=1 (CI) they fail instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BLOCK_SIZE, encodeHeader, paddingFor } from '../../src/archive/tar-format.ts';
import { engineRegistryAuth, type RegistryCredentials } from '../../src/registry/credentials.ts';
import { defaultSocketPath } from '../../src/runtime/docker/engine-http.ts';
import { dockerSuite } from './docker.ts';
import { toolSuite } from './tools.ts';

const run = promisify(execFile);

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

/** The user every authenticated test registry accepts (test-only, never a real secret). */
export const REGISTRY_USER: RegistryCredentials = Object.freeze({ username: 'berth-test', password: 'pa55-w0rd:with spaces' });
export const TOKEN_SERVICE_NAME = 'berth-test-registry';
const TOKEN_ISSUER = 'berth-test-issuer';
const FIXTURE_REPO = 'berth-test/registry-fixture';
const FIXTURE_LABEL = 'berth.test-fixture';

export interface TokenService {
  /** http://127.0.0.1:PORT/token */
  readonly realm: string;
  /** Tokens issued so far, and the requests that were refused (wrong password). */
  readonly issued: { account: string | undefined; scopes: string[] }[];
  readonly refused: number;
  /** Seconds each new token is valid (the `expires_in` it answers); default 300. */
  expiresIn: number;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`: the domain of references to this registry. */
  readonly host: string;
  readonly auth: RegistryAuth;
  /** The user that may push and pull; undefined for `none`. */
  readonly credentials: RegistryCredentials | undefined;
  /** For `token`: the token service in front of it. */
  readonly tokens: TokenService | undefined;
  /** Tags the local image as HOST/target, pushes it with the engine, untags it; the digest the push reported. */
  push(localImage: string, target: string): Promise<string>;
  /** Makes a new tiny image (one file of random content: never seen before) and pushes it to target. */
  pushFresh(target: string): Promise<string>;
  /** `HOST/target` */
  ref(target: string): string;
  stop(): Promise<void>;
}

/** Whether registry tests can run here: `{ skip: false }`, or the reason they skip (throws in CI). */
export async function registrySuite(auth: RegistryAuth = 'none'): Promise<{ skip: string | false }> {
  const tools = [toolSuite('docker-registry', 'docker-registry')];
  if (auth === 'htpasswd') tools.push(toolSuite('htpasswd', 'apache2-utils'));
  if (auth === 'token') tools.push(toolSuite('openssl', 'openssl'));
  const missing = tools.find((tool) => tool.skip);
  if (missing?.skip) return { skip: missing.skip };
  const docker = await dockerSuite();
  return { skip: docker.skip };
}

export async function startRegistry(options: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    let authConfig = '';
    let tokens: TokenService | undefined;
    if (auth === 'htpasswd') {
      const { stdout } = await runWithInput('htpasswd', ['-B', '-i', '-n', REGISTRY_USER.username], REGISTRY_USER.password);
      writeFileSync(join(dir, 'htpasswd'), stdout);
      authConfig = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      const service = await startTokenService(dir);
      cleanups.push(() => service.close());
      tokens = service.tokens;
      authConfig =
        `auth:\n  token:\n    realm: ${service.tokens.realm}\n    service: ${TOKEN_SERVICE_NAME}\n` +
        `    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${service.certPath}\n`;
    }
    const { child, host } = await startProcess(dir, authConfig);
    cleanups.push(() => stopProcess(child));
    const credentials = auth === 'none' ? undefined : REGISTRY_USER;
    const fixtures = new Set<string>();
    cleanups.push(async () => {
      for (const image of fixtures) await engineCall('DELETE', `/images/${encodeURIComponent(image)}?force=true`).catch(() => undefined);
    });
    const registry: TestRegistry = {
      host,
      auth,
      credentials,
      tokens,
      ref: (target) => `${host}/${target}`,
      push: (localImage, target) => pushImage(localImage, `${host}/${target}`, credentials),
      async pushFresh(target) {
        const image = await importFixture();
        fixtures.add(image);
        return pushImage(image, `${host}/${target}`, credentials);
      },
      stop: cleanup,
    };
    return registry;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function startProcess(dir: string, authConfig: string): Promise<{ child: ChildProcess; host: string }> {
  let lastError: unknown;
  // A free port can be taken between finding it and the registry binding it: a few attempts.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n` +
        `  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n  secret: ${randomBytes(16).toString('hex')}\n${authConfig}`,
    );
    const logPath = join(dir, `registry-${attempt}.log`);
    const log = openSync(logPath, 'w');
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitUntilServing(host, exited);
      return { child, host };
    } catch (error) {
      lastError = new Error(`docker-registry did not start on ${host}: ${(error as Error).message}\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
      await stopProcess(child);
    }
  }
  throw lastError;
}

async function waitUntilServing(host: string, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error('the registry process exited');
    const status = await httpStatus(`http://${host}/v2/`).catch(() => 0);
    if (status === 200 || status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no answer on /v2/ within 15 s');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function runWithInput(command: string, args: string[], input: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${stderr || error.message}`));
      else resolve({ stdout });
    });
    child.stdin!.end(input);
  });
}

// ---- The token service (https://distribution.github.io/distribution/spec/auth/token/) ----

async function startTokenService(dir: string): Promise<{ tokens: TokenService; certPath: string; close: () => Promise<void> }> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth-test-token', '-keyout', keyPath, '-out', certPath], { timeout: 60_000 });
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const state = { issued: [] as TokenService['issued'], refused: 0, expiresIn: 300, realm: '' };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const account = basicUser(req);
    if (account === null) {
      state.refused++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    // The user may push and pull anything; anonymous callers get a token with no access.
    const access = account === undefined ? [] : scopes.map(parseScope).filter((a) => a !== undefined);
    state.issued.push({ account, scopes });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: TOKEN_ISSUER,
      sub: account ?? '',
      aud: url.searchParams.get('service') ?? '',
      exp: now + state.expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const token = jwt({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }, claims, key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: state.expiresIn, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    tokens: state,
    certPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Basic user if the password is right, undefined when anonymous, null when wrong. */
function basicUser(req: IncomingMessage): string | undefined | null {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Basic (.+)$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return colon > 0 && user === REGISTRY_USER.username && password === REGISTRY_USER.password ? user : null;
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const match = /^(repository):(.+):([a-z,*]+)$/.exec(scope);
  return match ? { type: match[1], name: match[2], actions: match[3].split(',') } : undefined;
}

function jwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${part(header)}.${part(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}

// ---- The engine: images in, pushed out ----

/** A one-file image never seen before: its digest differs from every other. */
async function importFixture(): Promise<string> {
  const tag = randomBytes(8).toString('hex');
  const content = Buffer.from(`berth registry fixture ${tag} ${createHash('sha256').update(randomBytes(32)).digest('hex')}\n`);
  const tar = Buffer.concat([
    encodeHeader({ name: 'fixture.txt', typeflag: '0', mode: 0o644, size: content.length, mtime: Math.floor(Date.now() / 1000) }),
    content,
    Buffer.alloc(paddingFor(content.length)),
    Buffer.alloc(2 * BLOCK_SIZE),
  ]);
  const query = new URLSearchParams({ fromSrc: '-', repo: FIXTURE_REPO, tag });
  query.append('changes', `LABEL ${FIXTURE_LABEL}=registry`);
  const answer = await engineCall('POST', `/images/create?${query}`, { body: tar, contentType: 'application/x-tar' });
  const failure = streamError(answer.body);
  if (answer.status !== 200 || failure) throw new Error(`importing a fixture image failed: ${failure ?? answer.body.slice(0, 500)}`);
  return `${FIXTURE_REPO}:${tag}`;
}

async function pushImage(localImage: string, target: string, credentials: RegistryCredentials | undefined): Promise<string> {
  const colon = target.lastIndexOf(':');
  if (colon <= target.indexOf('/')) throw new Error(`push target ${target} needs a tag`);
  const repo = target.slice(0, colon);
  const tag = target.slice(colon + 1);
  const tagged = await engineCall('POST', `/images/${encodeURIComponent(localImage)}/tag?${new URLSearchParams({ repo, tag })}`);
  if (tagged.status !== 201) throw new Error(`docker tag ${localImage} ${target}: HTTP ${tagged.status} ${tagged.body.slice(0, 300)}`);
  try {
    const auth = engineRegistryAuth(target.slice(0, target.indexOf('/')), credentials) ?? Buffer.from('{}').toString('base64');
    const pushed = await engineCall('POST', `/images/${encodeURIComponent(repo)}/push?${new URLSearchParams({ tag })}`, { headers: { 'x-registry-auth': auth } });
    const failure = streamError(pushed.body);
    if (pushed.status !== 200 || failure) throw new Error(`docker push ${target}: ${failure ?? `HTTP ${pushed.status} ${pushed.body.slice(0, 300)}`}`);
    const digest = pushed.body
      .split('\n')
      .map((line) => {
        try {
          return (JSON.parse(line) as { aux?: { Digest?: string } }).aux?.Digest;
        } catch {
          return undefined;
        }
      })
      .find((d) => d !== undefined);
    if (!digest) throw new Error(`docker push ${target} reported no digest`);
    return digest;
  } finally {
    // Only the tag goes: the engine keeps the local image, and holds nothing under the registry's name.
    await engineCall('DELETE', `/images/${encodeURIComponent(target)}?noprune=1`).catch(() => undefined);
  }
}

function streamError(body: string): string | undefined {
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    try {
      const message = JSON.parse(line) as { error?: string };
      if (message.error) return message.error;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** One Engine API call over the Unix socket; the whole answer as text (bounded, 2 minutes at most). */
export function engineCall(method: string, path: string, options: { body?: Buffer; contentType?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      headers['content-length'] = String(options.body.length);
    }
    const req = request({ socketPath: defaultSocketPath(), path, method, headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 16 * 1024 * 1024) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from the engine within 120 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
