import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { waitFor } from '../../../test/support/http.ts';
import { startUpstream, tableFor, type TestUpstream } from '../upstream.test-support.ts';
import { h2Client, h2Request, startH2Proxy, type H2Proxy } from './h2.test-support.ts';
import { FLAG, FRAME, getHeaders, rawH2, rstStream } from './raw-h2.test-support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The session ended for rapid reset: GOAWAY(ENHANCE_YOUR_CALM). The attacker may not read that GOAWAY: berth
 * closes the socket with the rest of the flood unread, and the kernel then answers with a TCP reset, which
 * can overtake it. So: no GOAWAY, or that one.
 */
function assertCalmDown(goaway: number | undefined): void {
  if (goaway !== undefined) assert.equal(goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM);
}

describe('http2 proxy: floods and forbidden frames', () => {
  let proxy: H2Proxy;
  let up: TestUpstream;
  before(async () => {
    // A small allowance, so the test reaches berth's guard long before nghttp2's own limit (500).
    proxy = await startH2Proxy({ resetGuard: { burst: 20, perSecond: 5 } });
    up = await startUpstream('a', (_req, res) => setTimeout(() => res.end('ok'), 5));
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'r1', address: up.address }]));
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  test('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM in one burst ends that session with ENHANCE_YOUR_CALM; another session is unharmed', async () => {
    const neighbour = h2Client(proxy);
    try {
      assert.equal((await h2Request(neighbour, { ':path': '/' })).status, 200);
      const attacker = await rawH2(proxy.port, proxy.ca);
      const requestsBefore = up.requests.length;
      const burst: Buffer[] = [];
      for (let i = 0; i < 500; i++) burst.push(getHeaders(1 + 2 * i, 'app.localhost'), rstStream(1 + 2 * i, constants.NGHTTP2_CANCEL));
      attacker.send(...burst);
      // The neighbour keeps being served while the attacker is dealt with.
      const during = Array.from({ length: 10 }, () => h2Request(neighbour, { ':path': '/' }));
      await waitFor('the attacker to be disconnected', () => attacker.closed(), 5000);
      assertCalmDown(attacker.goaway());
      for (const reply of await Promise.all(during)) assert.equal(reply.status, 200);
      assert.ok(up.requests.length - requestsBefore <= 10 + 21, `the burst reached the app ${up.requests.length - requestsBefore - 10} times`);
      assert.equal((await h2Request(neighbour, { ':path': '/' })).status, 200);
      await waitFor('nothing left in flight', () => proxy.routes.targetStats().r1.inflight === 0);
    } finally {
      neighbour.close();
    }
  });

  test('rapid reset across reads: resets of streams already forwarded count too', async () => {
    const attacker = await rawH2(proxy.port, proxy.ca);
    let stream = 1;
    for (let round = 0; round < 20 && !attacker.closed(); round++) {
      const ids = Array.from({ length: 10 }, () => (stream += 2));
      attacker.send(...ids.map((id) => getHeaders(id, 'app.localhost')));
      await sleep(2); // let berth start forwarding them
      attacker.send(...ids.map((id) => rstStream(id, constants.NGHTTP2_NO_ERROR)));
      await sleep(2);
    }
    await waitFor('the attacker to be disconnected', () => attacker.closed(), 5000);
    assertCalmDown(attacker.goaway());
    await waitFor('nothing left in flight', () => proxy.routes.targetStats().r1.inflight === 0);
  });

  test('a few resets are a browser cancelling requests: the session stays', async () => {
    const client = await rawH2(proxy.port, proxy.ca);
    const out: Buffer[] = [];
    for (let i = 0; i < 10; i++) out.push(getHeaders(1 + 2 * i, 'app.localhost'), rstStream(1 + 2 * i, constants.NGHTTP2_CANCEL));
    client.send(...out);
    await sleep(100);
    client.send(getHeaders(101, 'app.localhost'));
    await waitFor('the answer on stream 101', () => client.frames.some((f) => f.stream === 101 && f.type === FRAME.DATA), 5000);
    assert.equal(client.goaway(), undefined);
    client.socket.destroy();
  });

  test('connection-specific fields are refused per stream; the app never sees the request', async () => {
    const client = await rawH2(proxy.port, proxy.ca);
    const before = up.requests.length;
    client.send(getHeaders(1, 'app.localhost', [['connection', 'close']]), getHeaders(3, 'app.localhost', [['transfer-encoding', 'chunked']]), getHeaders(5, 'app.localhost', [['te', 'gzip']]));
    await waitFor('all three streams reset', () => [1, 3, 5].every((id) => client.frames.some((f) => f.stream === id && f.type === FRAME.RST_STREAM)), 5000);
    for (const id of [1, 3, 5]) {
      const rst = client.frames.find((f) => f.stream === id && f.type === FRAME.RST_STREAM)!;
      assert.equal(rst.payload.readUInt32BE(0), constants.NGHTTP2_PROTOCOL_ERROR);
    }
    assert.equal(up.requests.length, before);
    client.send(getHeaders(7, 'app.localhost'));
    await waitFor('a later request on the same session served', () => client.frames.some((f) => f.stream === 7 && f.type === FRAME.DATA && (f.flags & FLAG.END_STREAM) !== 0), 5000);
    client.socket.destroy();
  });

  test('garbage instead of the HTTP/2 preface ends that session only', async () => {
    const neighbour = h2Client(proxy);
    try {
      const sessionsBefore = proxy.sessions.size;
      const client = await rawH2(proxy.port, proxy.ca, { preface: false });
      client.send(Buffer.from('GET / HTTP/1.1\r\nHost: app.localhost\r\n\r\n'), Buffer.alloc(1000, 0xff));
      await waitFor('the session to be closed', () => client.closed(), 5000);
      await waitFor('the listener to forget it', () => proxy.sessions.size <= sessionsBefore + 1, 5000);
      assert.equal((await h2Request(neighbour, { ':path': '/' })).status, 200);
    } finally {
      neighbour.close();
    }
  });

  test('a client that half-closes its socket (FIN) loses its session: held streams free their upstream connections', async () => {
    const client = await rawH2(proxy.port, proxy.ca);
    client.send(...Array.from({ length: 5 }, (_, i) => getHeaders(1 + 2 * i, 'app.localhost', [], false)));
    await waitFor('the five streams in flight', () => proxy.routes.targetStats().r1.inflight === 5, 5000);
    client.socket.end();
    await waitFor('the streams released', () => proxy.routes.targetStats().r1.inflight === 0, 5000);
    await waitFor('the socket closed by berth', () => client.closed(), 5000);
  });

  test('streams over the concurrency limit are refused, not queued', async () => {
    const client = await rawH2(proxy.port, proxy.ca);
    // 140 requests held open (no END_STREAM: each waits for a body) against a limit of 128.
    client.send(...Array.from({ length: 140 }, (_, i) => getHeaders(1 + 2 * i, 'app.localhost', [], false)));
    await waitFor('the streams beyond 128 refused', () => client.frames.filter((f) => f.type === FRAME.RST_STREAM).length >= 12, 5000);
    const refused = client.frames.filter((f) => f.type === FRAME.RST_STREAM);
    assert.ok(refused.every((f) => f.payload.readUInt32BE(0) === constants.NGHTTP2_REFUSED_STREAM));
    assert.ok(refused.every((f) => f.stream > 2 * 128), 'the first 128 streams are served');
    client.socket.destroy();
    await waitFor('the held streams released', () => proxy.routes.targetStats().r1.inflight === 0);
  });
});
