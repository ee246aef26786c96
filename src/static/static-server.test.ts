import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, utimes } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { rawRequest, request, SERVER_JS, setMtimes, startFailure, startServer, tempDir, within, writeSite, type Running } from './static.test-support.ts';

const HTML = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=0, must-revalidate';
const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
const STYLE = 'body { color: rebeccapurple; }\n'.repeat(50);

/** The server must run on the containers' older Node as well as on berth's own. */
const SYSTEM_NODE = '/usr/bin/node';
const NODES = [
  { bin: SYSTEM_NODE, present: existsSync(SYSTEM_NODE) },
  { bin: process.execPath, present: true },
].map((n) => ({ ...n, version: n.present ? execFileSync(n.bin, ['--version'], { encoding: 'utf8' }).trim() : 'missing' }));

/** Names whose Cache-Control shows the fingerprint rule: [file name, expected Cache-Control]. */
const FINGERPRINT_TABLE: [string, string][] = [
  ['app.3f2a1b9c.js', IMMUTABLE],
  ['main-BcD3f9aQ.css', IMMUTABLE],
  ['chunk.abcdef1234567890.mjs', IMMUTABLE],
  ['index.B-x_9aQ1.js', IMMUTABLE], // Vite-style base64url hash after a '.'
  ['vendor-0a1b2c3d4e5f.js', IMMUTABLE],
  ['logo.a1b2c3d4.svg', IMMUTABLE],
  ['inter.5d41402abc4b2a76b9719d911017c592.woff2', IMMUTABLE],
  ['style.css', REVALIDATE],
  ['font-awesome-2024.css', REVALIDATE], // words before the '-': the hash is only '2024'
  ['hero-1920x1080.jpg', REVALIDATE], // dimensions, not a hash
  ['jquery-3.7.1.min.js', REVALIDATE],
  ['app.v2.js', REVALIDATE],
  ['chunk.12345678.js', REVALIDATE], // no letter
  ['chunk.abcdefgh.js', REVALIDATE], // no digit
  ['app.3f2a1b9.js', REVALIDATE], // 7 characters
  ['index-Ab-3xYz9.js', REVALIDATE], // a '-' inside a '-'-separated hash is not recognised
  ['3f2a1b9c4d.js', REVALIDATE], // no separator
  ['sw.js', REVALIDATE],
  ['page.3f2a1b9c.html', HTML], // HTML is always revalidated
];

/** The shared fixture: a site under `<base>/site`, with a secret next to it (outside the root). */
async function makeSite(): Promise<{ base: string; root: string }> {
  const base = await tempDir();
  const root = join(base, 'site');
  await writeSite(base, { 'secret.txt': SECRET, 'elsewhere/secret.txt': SECRET });
  await writeSite(root, {
    'index.html': '<h1>home</h1>',
    'about.html': '<h1>about</h1>',
    'docs/index.html': '<h1>docs</h1>',
    'blog/index.html': '<h1>blog</h1>',
    'empty/readme.txt': 'no index here',
    'evil.com/index.html': '<h1>not a host</h1>',
    '404.html': '<h1>custom 404</h1>',
    'robots.txt': 'User-agent: *\n',
    'with space.txt': 'spaced',
    'assets/app.3f2a1b9c.js': 'console.log("app");',
    'assets/style.css': STYLE,
    'assets/style.css.gz': gzipSync(STYLE),
    'assets/style.css.br': brotliCompressSync(Buffer.from(STYLE)),
    'assets/.hidden': 'hidden',
    '.env': 'SECRET=1',
    '.git/config': '[core]',
    '.well-known/security.txt': 'Contact: mailto:security@example.com',
    'leak.txt': { symlink: join(base, 'secret.txt') },
    'outside': { symlink: join(base, 'elsewhere') },
    'inside-link.txt': { symlink: 'robots.txt' },
    'env-link': { symlink: '.env' },
    'types/data.json': '{}',
    'types/image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'types/module.wasm': Buffer.from([0, 0x61, 0x73, 0x6d]),
    'types/site.webmanifest': '{}',
    'types/icon.svg': '<svg/>',
    'types/blob.xyz': 'x',
    'types/README': 'no extension',
    ...Object.fromEntries(FINGERPRINT_TABLE.map(([name]) => [`fp/${name}`, `content of ${name}`])),
  });
  return { base, root };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

for (const node of NODES) {
  describe(`static server on ${node.version} (${node.bin})`, { skip: !node.present && `${node.bin} is missing` }, () => {
    let base: string;
    let root: string;
    let server: Running;
    let port: number;

    before(async () => {
      ({ base, root } = await makeSite());
      server = await startServer(node.bin, root);
      port = server.port;
    });
    after(async () => {
      await server?.stop();
      await rm(base, { recursive: true, force: true });
    });

    test('resolves paths by the table', async () => {
      const cases: [string, number, string][] = [
        ['/', 200, '<h1>home</h1>'],
        ['/index.html', 200, '<h1>home</h1>'],
        ['/?utm=1', 200, '<h1>home</h1>'],
        ['/about', 200, '<h1>about</h1>'],
        ['/about?x=1', 200, '<h1>about</h1>'],
        ['/about.html', 200, '<h1>about</h1>'],
        ['/%61bout', 200, '<h1>about</h1>'],
        ['/docs/', 200, '<h1>docs</h1>'],
        ['/docs/index', 200, '<h1>docs</h1>'],
        ['/docs/index.html', 200, '<h1>docs</h1>'],
        ['/robots.txt', 200, 'User-agent: *\n'],
        ['/with%20space.txt', 200, 'spaced'],
        ['/inside-link.txt', 200, 'User-agent: *\n'],
        ['/empty/readme.txt', 200, 'no index here'],
        ['/empty', 404, '<h1>custom 404</h1>'],
        ['/empty/', 404, '<h1>custom 404</h1>'],
        ['/about/', 404, '<h1>custom 404</h1>'],
        ['/missing', 404, '<h1>custom 404</h1>'],
        ['/missing.css', 404, '<h1>custom 404</h1>'],
        ['/__berth/health', 200, 'ok'],
      ];
      for (const [path, status, body] of cases) {
        const reply = await request(port, path);
        assert.deepEqual([path, reply.status, reply.text], [path, status, body]);
      }
    });

    test('redirects a directory without its slash, keeping the query', async () => {
      const cases: [string, string][] = [
        ['/docs', '/docs/'],
        ['/docs?x=1&y=a%20b', '/docs/?x=1&y=a%20b'],
        ['/blog', '/blog/'],
        ['//evil.com', '/evil.com/'], // never a protocol-relative '//host' Location
      ];
      for (const [path, location] of cases) {
        const reply = await request(port, path);
        assert.deepEqual([path, reply.status, reply.headers.location], [path, 308, location]);
      }
    });

    test('the 404 page is HTML, revalidated, and served with status 404', async () => {
      const reply = await request(port, '/nowhere');
      assert.equal(reply.status, 404);
      assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(reply.headers['cache-control'], HTML);
      assert.equal(reply.headers.etag, undefined); // conditionals only apply to 200s
    });

    test('applies the caching rules by file name and type', async () => {
      for (const [name, expected] of FINGERPRINT_TABLE) {
        const reply = await request(port, `/fp/${name}`);
        assert.deepEqual([name, reply.status, reply.headers['cache-control']], [name, 200, expected]);
        assert.match(reply.headers.etag ?? '', /^"[^"]+"$/, `${name} has a strong ETag`);
      }
      const html = await request(port, '/about');
      assert.equal(html.headers['cache-control'], HTML);
      assert.match(html.headers.etag ?? '', /^"[^"]+"$/);
      assert.equal((await request(port, '/assets/app.3f2a1b9c.js')).headers['cache-control'], IMMUTABLE);
      assert.equal((await request(port, '/assets/style.css')).headers['cache-control'], REVALIDATE);
      assert.equal((await request(port, '/__berth/health')).headers['cache-control'], 'no-store');
    });

    test('sends content types, with a charset for text, and nosniff', async () => {
      const cases: [string, string][] = [
        ['/', 'text/html; charset=utf-8'],
        ['/assets/style.css', 'text/css; charset=utf-8'],
        ['/assets/app.3f2a1b9c.js', 'text/javascript; charset=utf-8'],
        ['/robots.txt', 'text/plain; charset=utf-8'],
        ['/types/data.json', 'application/json; charset=utf-8'],
        ['/types/icon.svg', 'image/svg+xml; charset=utf-8'],
        ['/types/site.webmanifest', 'application/manifest+json; charset=utf-8'],
        ['/types/image.png', 'image/png'],
        ['/types/module.wasm', 'application/wasm'],
        ['/types/blob.xyz', 'application/octet-stream'],
        ['/types/README', 'application/octet-stream'],
      ];
      for (const [path, type] of cases) {
        const reply = await request(port, path);
        assert.deepEqual([path, reply.headers['content-type'], reply.headers['x-content-type-options']], [path, type, 'nosniff']);
        assert.equal(Number(reply.headers['content-length']), reply.body.length, path);
      }
      assert.equal((await request(port, '/missing')).headers['x-content-type-options'], 'nosniff');
    });

    test('answers If-None-Match with 304 for a matching tag, a list, a weak tag, and *', async () => {
      for (const path of ['/about', '/assets/style.css']) {
        const first = await request(port, path);
        const etag = first.headers.etag!;
        assert.equal((await request(port, path)).headers.etag, etag, 'the tag is stable');
        for (const ifNoneMatch of [etag, `"nope", ${etag}`, `"a","b",${etag}`, `W/${etag}`, '*']) {
          const reply = await request(port, path, { headers: { 'If-None-Match': ifNoneMatch } });
          assert.deepEqual([ifNoneMatch, reply.status, reply.body.length], [ifNoneMatch, 304, 0]);
          assert.equal(reply.headers.etag, etag);
          assert.equal(reply.headers['cache-control'], first.headers['cache-control']);
        }
        for (const ifNoneMatch of ['"nope"', 'W/"nope"', `"${etag}"`]) {
          const reply = await request(port, path, { headers: { 'If-None-Match': ifNoneMatch } });
          assert.deepEqual([ifNoneMatch, reply.status, reply.body.equals(first.body)], [ifNoneMatch, 200, true]);
        }
        const head = await request(port, path, { method: 'HEAD', headers: { 'If-None-Match': etag } });
        assert.equal(head.status, 304);
      }
    });

    test('answers If-Modified-Since only without If-None-Match, and only for the exact date', async () => {
      const first = await request(port, '/about');
      const lastModified = first.headers['last-modified']!;
      assert.ok(lastModified, 'Last-Modified is sent');
      const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
      const ims = async (headers: Record<string, string>) => (await request(port, '/about', { headers })).status;
      assert.equal(await ims({ 'If-Modified-Since': lastModified }), 304);
      assert.equal(await ims({ 'If-Modified-Since': later }), 200); // a rollback must not pass as "not modified"
      assert.equal(await ims({ 'If-Modified-Since': 'not a date' }), 200);
      assert.equal(await ims({ 'If-None-Match': '"nope"', 'If-Modified-Since': lastModified }), 200);
    });

    test('HEAD sends the GET headers and no body', async () => {
      for (const path of ['/', '/assets/style.css', '/missing', '/__berth/health']) {
        const get = await request(port, path);
        const head = await request(port, path, { method: 'HEAD' });
        assert.equal(head.status, get.status, path);
        assert.equal(head.body.length, 0, path);
        for (const name of ['content-type', 'content-length', 'cache-control', 'etag', 'last-modified']) {
          assert.equal(head.headers[name], get.headers[name], `${path} ${name}`);
        }
      }
    });

    test('serves precompressed siblings the client accepts, with their own ETag', async () => {
      const path = '/assets/style.css';
      const plain = await request(port, path);
      assert.equal(plain.text, STYLE);
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.headers.vary, 'Accept-Encoding', 'caches must keep the variants apart');

      const gzip = await request(port, path, { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(gzip.headers['content-encoding'], 'gzip');
      assert.equal(gzip.headers['content-type'], 'text/css; charset=utf-8');
      assert.equal(gzip.headers.vary, 'Accept-Encoding');
      assert.equal(Number(gzip.headers['content-length']), gzip.body.length);
      assert.ok(gzip.body.length < Buffer.byteLength(STYLE));
      assert.equal(gunzipSync(gzip.body).toString(), STYLE);

      const br = await request(port, path, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(brotliDecompressSync(br.body).toString(), STYLE);
      assert.equal(new Set([plain.headers.etag, gzip.headers.etag, br.headers.etag]).size, 3, 'one ETag per encoding');

      const choice = async (acceptEncoding: string) => (await request(port, path, { headers: { 'Accept-Encoding': acceptEncoding } })).headers['content-encoding'];
      assert.equal(await choice('br;q=0.5, gzip'), 'gzip');
      assert.equal(await choice('gzip;q=0'), undefined);
      assert.equal(await choice('identity'), undefined);
      assert.equal(await choice('*'), 'br');

      const stale = await request(port, path, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.headers.etag! } });
      assert.equal(stale.status, 200, "the plain file's tag does not validate the gzip variant");
      const fresh = await request(port, path, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gzip.headers.etag! } });
      assert.equal(fresh.status, 304);

      const noVariants = await request(port, '/assets/app.3f2a1b9c.js', { headers: { 'Accept-Encoding': 'gzip, br' } });
      assert.equal(noVariants.headers['content-encoding'], undefined);
      assert.equal(noVariants.headers.vary, undefined);
    });

    test('traversal attempts never leave the root', async () => {
      const cases: [string, number][] = [
        ['/../secret.txt', 400],
        ['/../../../../etc/passwd', 400],
        ['/%2e%2e/secret.txt', 400],
        ['/%2e%2e/', 400],
        ['/%2E%2E%2Fsecret.txt', 400],
        ['/..%2fsecret.txt', 400],
        ['/docs/../../secret.txt', 400],
        ['/a%00b', 400],
        ['/..\\secret.txt', 400],
        ['/%5c..%5csecret.txt', 400],
        ['/%E0%A4%A', 400],
        ['/%252e%252e/secret.txt', 404], // decoded once: a literal file name, not a dot segment
        ['/leak.txt', 404], // symlink to a file outside
        ['/outside/secret.txt', 404], // symlink to a directory outside
        ['/outside', 404],
      ];
      for (const [target, status] of cases) {
        const reply = await rawRequest(port, target);
        assert.equal(reply.status, status, target);
        assert.ok(!reply.raw.includes(SECRET) && !reply.raw.includes('root:x:0:0'), `${target} leaked a file`);
      }
      const inside = await rawRequest(port, '/docs/../about.html');
      assert.equal(inside.status, 200, 'dot segments that stay inside are fine');
    });

    test('hides dotfiles except /.well-known/', async () => {
      for (const path of ['/.env', '/.env?x=1', '/%2eenv', '/.git/config', '/.git/', '/assets/.hidden', '/env-link', '/.well-known/../.env']) {
        const reply = await request(port, path);
        assert.deepEqual([path, reply.status, reply.text], [path, 404, '<h1>custom 404</h1>']);
      }
      const wellKnown = await request(port, '/.well-known/security.txt');
      assert.deepEqual([wellKnown.status, wellKnown.text], [200, 'Contact: mailto:security@example.com']);
    });

    test('refuses methods other than GET and HEAD with 405', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        for (const path of ['/', '/__berth/health']) {
          const reply = await request(port, path, { method });
          assert.deepEqual([method, path, reply.status, reply.headers.allow], [method, path, 405, 'GET, HEAD']);
        }
      }
    });

    test('recomputes the ETag when a file changes in place', async () => {
      await writeSite(root, { 'changing.txt': 'one' });
      const before = await request(port, '/changing.txt');
      await writeFile(join(root, 'changing.txt'), 'two!');
      await utimes(join(root, 'changing.txt'), new Date(), new Date(Date.now() + 5_000));
      const after = await request(port, '/changing.txt', { headers: { 'If-None-Match': before.headers.etag! } });
      assert.deepEqual([after.status, after.text], [200, 'two!']);
      assert.notEqual(after.headers.etag, before.headers.etag);
    });

    test('keeps connections alive for 65 s and listens beyond loopback', async () => {
      const reply = await request(port, '/robots.txt', { headers: { Connection: 'keep-alive' } });
      assert.equal(reply.headers['keep-alive'], 'timeout=65');
      assert.equal(reply.headers['accept-ranges'], undefined, 'ranges are not supported, so not advertised');
      const addresses = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal);
      const external = addresses.find((a) => a!.family === 'IPv4');
      if (external) assert.equal((await request(port, '/__berth/health', { host: external.address })).text, 'ok');
      const loopback6 = Object.values(networkInterfaces()).flat().some((a) => a?.address === '::1');
      if (loopback6) assert.equal((await request(port, '/__berth/health', { host: '::1' })).text, 'ok');
    });

    test('logs one start line and nothing per request', () => {
      assert.equal(server.stdout(), `static: serving ${root} on ${port}\n`);
      assert.equal(server.stderr(), '');
    });

    test('the redeploy: old HTML tags get the new page, old asset names are gone', async () => {
      const deploy = await tempDir();
      const [a, b] = [join(deploy, 'a'), join(deploy, 'b')];
      const files = (release: string, hash: string) => ({
        'index.html': `<h1>release ${release}</h1><script src="/assets/app.${hash}.js"></script>`,
        [`assets/app.${hash}.js`]: `console.log("${release}");`,
      });
      await writeSite(a, files('A', '1a2b3c4d'));
      await writeSite(b, files('B', '5e6f7a8b'));
      // Build tools and archives carry mtimes along; release B was built after A.
      await setMtimes(a, ['index.html', 'assets/app.1a2b3c4d.js'], new Date('2020-01-01T00:00:00Z'));
      await setMtimes(b, ['index.html', 'assets/app.5e6f7a8b.js'], new Date('2024-01-01T00:00:00Z'));
      let running: Running | undefined;
      try {
        running = await startServer(node.bin, a);
        const samePort = running.port;
        const pageA = await request(samePort, '/');
        assert.equal(pageA.text, files('A', '1a2b3c4d')['index.html']);
        assert.equal(pageA.headers['cache-control'], HTML);
        assert.equal((await request(samePort, '/assets/app.1a2b3c4d.js')).headers['cache-control'], IMMUTABLE);
        assert.deepEqual(await running.stop(), { code: 0, signal: null });

        running = await startServer(node.bin, b, { port: samePort });
        // What a browser sends when revalidating its copy of release A.
        const revalidated = await request(samePort, '/', {
          headers: { 'If-None-Match': pageA.headers.etag!, 'If-Modified-Since': pageA.headers['last-modified']! },
        });
        assert.equal(revalidated.status, 200);
        assert.equal(revalidated.text, files('B', '5e6f7a8b')['index.html']);
        assert.notEqual(revalidated.headers.etag, pageA.headers.etag);
        assert.equal(revalidated.headers['cache-control'], HTML);
        assert.equal((await request(samePort, '/', { headers: { 'If-None-Match': revalidated.headers.etag! } })).status, 304);
        assert.equal((await request(samePort, '/assets/app.1a2b3c4d.js')).status, 404);
        const newAsset = await request(samePort, '/assets/app.5e6f7a8b.js');
        assert.deepEqual([newAsset.status, newAsset.headers['cache-control']], [200, IMMUTABLE]);
        assert.deepEqual(await running.stop(), { code: 0, signal: null });

        // Rolling back to A: a client holding B's page and only its date must not get a 304.
        running = await startServer(node.bin, a, { port: samePort });
        const rolledBack = await request(samePort, '/', { headers: { 'If-Modified-Since': revalidated.headers['last-modified']! } });
        assert.deepEqual([rolledBack.status, rolledBack.text], [200, files('A', '1a2b3c4d')['index.html']]);
      } finally {
        await running?.stop();
        await rm(deploy, { recursive: true, force: true });
      }
    });

    test('a root without index.html or 404.html still answers health and a plain 404', async () => {
      const bare = await tempDir();
      let running: Running | undefined;
      try {
        await writeSite(bare, { 'asset.txt': 'x' });
        running = await startServer(node.bin, bare);
        const health = await request(running.port, '/__berth/health');
        assert.deepEqual([health.status, health.text], [200, 'ok']);
        for (const path of ['/', '/missing']) {
          const reply = await request(running.port, path);
          assert.deepEqual([path, reply.status, reply.text, reply.headers['content-type']], [path, 404, 'not found\n', 'text/plain; charset=utf-8']);
        }
      } finally {
        await running?.stop();
        await rm(bare, { recursive: true, force: true });
      }
    });

    test('SIGTERM finishes in-flight responses, drops idle connections, refuses new ones, and exits 0', async () => {
      const dir = await tempDir();
      const big = Buffer.alloc(32 * 1024 * 1024, 'berth');
      await writeSite(dir, { 'big.bin': big, 'index.html': 'hi' });
      const running = await startServer(node.bin, dir);
      const keepAlive = new Agent({ keepAlive: true });
      try {
        await request(running.port, '/', { agent: keepAlive }); // leaves an idle keep-alive connection
        const { response, body } = await pausedDownload(running.port, '/big.bin');
        running.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(running.child.exitCode, null, 'still running while a response is in flight');
        await assert.rejects(connectOnce(running.port), /ECONNREFUSED/, 'no longer accepting');
        response.resume();
        assert.equal(sha256(await body), sha256(big), 'the in-flight response completed');
        // Exits once the last response is out: before its own shutdown limit would have cut anything.
        assert.deepEqual(await within(15_000, 'exit after the last response', running.exited), { code: 0, signal: null });
        assert.doesNotMatch(running.stderr(), /shutdown limit reached/, 'no connection was left to the shutdown limit');
      } finally {
        keepAlive.destroy();
        await running.stop('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('SIGINT on an idle server exits 0 at once', async () => {
      const dir = await tempDir();
      await writeSite(dir, { 'index.html': 'hi' });
      const running = await startServer(node.bin, dir);
      try {
        await request(running.port, '/');
        running.child.kill('SIGINT');
        assert.deepEqual(await within(3_000, 'exit on SIGINT', running.exited), { code: 0, signal: null });
      } finally {
        await running.stop('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('a copy runs beside any package.json, as CommonJS or as an ES module', async () => {
      // Images get a copy of the file; Node 18 does not detect module syntax, and
      // "type": "commonjs" turns detection off everywhere.
      for (const packageJson of [undefined, '{}', '{"type":"commonjs"}', '{"type":"module"}']) {
        const dir = await tempDir();
        let running: Running | undefined;
        try {
          await writeSite(dir, { 'static-server.js': await readFile(SERVER_JS), ...(packageJson && { 'package.json': packageJson }) });
          running = await startServer(node.bin, root, { script: join(dir, 'static-server.js') });
          assert.equal((await request(running.port, '/about')).text, '<h1>about</h1>', `beside ${packageJson}`);
          assert.equal(running.stderr(), '', `no warnings beside ${packageJson}`);
        } finally {
          await running?.stop();
          await rm(dir, { recursive: true, force: true });
        }
      }
    });

    test('refuses to start without a usable root or port', async () => {
      const missing = join(base, 'no-such-dir');
      const cases: [string, NodeJS.ProcessEnv, string][] = [
        [missing, {}, `static: root ${missing} does not exist\n`],
        [join(root, 'robots.txt'), {}, `static: root ${join(root, 'robots.txt')} is not a directory\n`],
        [root, { PORT: 'eighty' }, 'static: PORT "eighty" is not a port number\n'],
      ];
      for (const [dir, env, message] of cases) {
        assert.deepEqual(await startFailure(node.bin, dir, env), { exit: { code: 1, signal: null }, stderr: message });
      }
    });
  });
}

/** Starts a GET and stops reading once the headers arrive, so the response stays in flight. */
function pausedDownload(port: number, path: string) {
  return within(
    5_000,
    `paused GET ${path}`,
    new Promise<{ response: IncomingMessage; body: Promise<Buffer> }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        response.pause();
        const chunks: Buffer[] = [];
        const body = new Promise<Buffer>((done, fail) => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(Buffer.concat(chunks)));
          response.on('error', fail);
        });
        response.pause(); // attaching 'data' resumes the stream
        resolve({ response, body: within(15_000, `body of ${path}`, body) });
      });
      req.on('error', reject);
      req.end();
    }),
  );
}

/** Resolves when a TCP connection to the port opens (and closes it); rejects with the socket error. */
function connectOnce(port: number): Promise<void> {
  return within(
    3_000,
    'connect',
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    }),
  );
}
