import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolSuite } from '../../../test/support/tools.ts';
import { startUpstream, tableFor, type TestUpstream } from '../upstream.test-support.ts';
import { startH2Proxy, type H2Proxy } from './h2.test-support.ts';

const curl = toolSuite('curl', 'curl');
const h2load = toolSuite('h2load', 'nghttp2-client');

function run(file: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('http2 proxy with real clients', () => {
  let proxy: H2Proxy;
  let up: TestUpstream;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-h2-tools-'));
    proxy = await startH2Proxy();
    up = await startUpstream('tools');
    const table = tableFor('app', ['app.localhost', '127.0.0.1'], [{ id: 't1', address: up.address }]);
    table.apps.app.https = { redirect: true, hsts: 'max-age=300' };
    proxy.routes.apply(table);
  });
  after(async () => {
    await proxy.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('curl --http2: negotiated h2 over TLS with a checked certificate, GET and a 1 MB POST', { skip: curl.skip }, async () => {
    const base = ['--http2', '-sS', '--cacert', proxy.caPath, '--resolve', `app.localhost:${proxy.port}:127.0.0.1`];
    const url = `https://app.localhost:${proxy.port}`;
    const get = await run(curl.path!, [...base, '-D', '-', '-w', '\\nversion=%{http_version}', `${url}/hello?x=1`]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^HTTP\/2 200/);
    assert.match(get.stdout, /strict-transport-security: max-age=300/);
    assert.match(get.stdout, /"url":"\/hello\?x=1"/);
    assert.match(get.stdout, /version=2$/);
    assert.equal(up.requests.at(-1)!.headers['x-forwarded-proto'], 'https');

    const bodyFile = join(dir, 'body.bin');
    writeFileSync(bodyFile, Buffer.alloc(1024 * 1024, 'b'));
    const post = await run(curl.path!, [...base, '--data-binary', `@${bodyFile}`, '-H', 'content-type: application/octet-stream', `${url}/upload`]);
    assert.equal(post.code, 0, post.stderr);
    assert.equal(JSON.parse(post.stdout).received, 1024 * 1024);
    assert.equal(up.requests.at(-1)!.headers['content-length'], String(1024 * 1024));
  });

  test('h2load: 2000 requests, 4 connections x 10 streams, 0 failed; then 200 POSTs of 64 KB', { skip: h2load.skip }, async () => {
    const url = `https://127.0.0.1:${proxy.port}/`;
    const gets = await run(h2load.path!, ['-n', '2000', '-c', '4', '-m', '10', url]);
    assert.equal(gets.code, 0, gets.stderr);
    assert.match(gets.stdout, /Application protocol: h2/);
    assert.match(gets.stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/, gets.stdout);
    assert.match(gets.stdout, /status codes: 2000 2xx/);
    console.log(`# h2load GET: ${/finished in [^\n]+/.exec(gets.stdout)?.[0]}`);

    const bodyFile = join(dir, 'post.bin');
    writeFileSync(bodyFile, Buffer.alloc(64 * 1024, 'p'));
    const posts = await run(h2load.path!, ['-n', '200', '-c', '2', '-m', '5', '-d', bodyFile, url]);
    assert.equal(posts.code, 0, posts.stderr);
    assert.match(posts.stdout, /requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed/, posts.stdout);
    assert.ok(up.requests.slice(-200).every((r) => r.method === 'POST' && r.body.length === 64 * 1024), 'every body arrived whole');
    assert.equal(proxy.routes.targetStats().t1.inflight, 0);
  });
});
