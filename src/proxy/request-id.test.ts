/**
 * X-Request-ID: a client's single valid one reaches the app as it is; none, an invalid one or several are
 * replaced by one berth generates. Real upstreams on 127.0.0.1, over HTTP/1 and HTTP/2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawExchange, request } from '../../test/support/http.ts';
import { h2Client, h2Request, startH2Proxy, type H2Proxy } from './http2/h2.test-support.ts';
import { RequestIds } from './request-ids.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, tableFor, type TestUpstream } from './upstream.test-support.ts';

const GENERATED = /^[0-9a-f]{16}-[0-9a-f]+$/;
const VISIBLE_200 = '!' + 'x'.repeat(198) + '~';

/** Every X-Request-ID the app received for its last request (raw headers, so repeats would show). */
function idsSeen(up: TestUpstream & { raw: string[][] }): string[] {
  const raw = up.raw.at(-1)!;
  const ids: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'x-request-id') ids.push(raw[i + 1]);
  return ids;
}

async function recordingUpstream(): Promise<TestUpstream & { raw: string[][] }> {
  const raw: string[][] = [];
  const up = await startUpstream('up', (req, res) => {
    raw.push(req.rawHeaders);
    res.end('ok');
  });
  return Object.assign(up, { raw });
}

test('generated ids: one random prefix per generator, then a counter', () => {
  const a = new RequestIds();
  const first = a.next();
  const second = a.next();
  assert.match(first, GENERATED);
  assert.equal(first.split('-')[0], second.split('-')[0]);
  assert.notEqual(first, second);
  assert.notEqual(new RequestIds().next().split('-')[0], first.split('-')[0], 'another proxy, another prefix');
});

describe('X-Request-ID over HTTP/1', () => {
  let proxy: ProxyServer;
  let up: TestUpstream & { raw: string[][] };
  before(async () => {
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0 });
    up = await recordingUpstream();
    proxy.apply(tableFor('app', ['app.localhost'], [{ address: up.address }]));
  });
  after(async () => {
    await proxy.close(100);
    await up.close();
  });

  const send = (headers: Record<string, string>) => request({ port: proxy.address.port, host: 'app.localhost', headers });

  test('a valid one passes as it is (1 to 200 visible ASCII characters)', async () => {
    for (const id of ['abc-123', 'Z', VISIBLE_200, '"quoted"\\{json}']) {
      await send({ 'x-request-id': id });
      assert.deepEqual(idsSeen(up), [id]);
    }
  });

  test('none, an invalid one or several: replaced by one berth makes', async () => {
    const seen: string[] = [];
    const cases: Record<string, string>[] = [{}, { 'x-request-id': '' }, { 'x-request-id': 'has space' }, { 'x-request-id': VISIBLE_200 + 'x' }, { 'X-Request-Id': 'caf\u00e9' }];
    for (const headers of cases) {
      await send(headers);
      const ids = idsSeen(up);
      assert.equal(ids.length, 1, `one id for ${JSON.stringify(headers)}`);
      assert.match(ids[0], GENERATED);
      seen.push(ids[0]);
    }
    assert.equal(new Set(seen).size, seen.length, 'each request its own');

    const twice = 'GET / HTTP/1.1\r\nHost: app.localhost\r\nX-Request-ID: one\r\nx-request-id: two\r\nConnection: close\r\n\r\n';
    assert.match(await rawExchange(proxy.address.port, twice), /^HTTP\/1\.1 200/);
    const ids = idsSeen(up);
    assert.equal(ids.length, 1, 'a repeated header never reaches the app twice');
    assert.match(ids[0], GENERATED);
  });
});

describe('X-Request-ID over HTTP/2', () => {
  let proxy: H2Proxy;
  let up: TestUpstream & { raw: string[][] };
  before(async () => {
    proxy = await startH2Proxy();
    up = await recordingUpstream();
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ address: up.address }]));
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  test('passed when valid, else generated, as on HTTP/1', async () => {
    const session = h2Client(proxy);
    try {
      await h2Request(session, { ':path': '/', 'x-request-id': 'h2-id.7' });
      assert.deepEqual(idsSeen(up), ['h2-id.7']);
      await h2Request(session, { ':path': '/' });
      assert.match(idsSeen(up).join(), GENERATED);
      await h2Request(session, { ':path': '/', 'x-request-id': 'with space' });
      assert.match(idsSeen(up).join(), GENERATED);
      await h2Request(session, { ':path': '/', 'x-request-id': ['a', 'b'] });
      assert.equal(idsSeen(up).length, 1);
      assert.match(idsSeen(up)[0], GENERATED);
    } finally {
      session.close();
    }
  });
});
