import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { waitFor } from '../../../test/support/http.ts';
import { tableFor } from '../upstream.test-support.ts';
import { h2Client, h2Request, startH2Proxy, type H2Proxy } from './h2.test-support.ts';

const MB = 1024 * 1024;
const BIG = 32 * MB;
/** What may sit between a paused reader and a writer: stream windows, one stream buffer, loopback socket buffers. */
const IN_FLIGHT_BOUND = 12 * MB;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An upstream whose handlers see the request unread, to control both directions' pace. */
async function startRawUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const state = { server: undefined as unknown as Server, port: 0, connections: 0, closedSockets: 0 };
  state.server = createServer(handler);
  state.server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => {
      state.closedSockets++;
      sockets.delete(s);
    });
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', () => r()));
  state.port = (state.server.address() as { port: number }).port;
  return {
    state,
    address: `127.0.0.1:${state.port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => state.server.close(() => r()));
    },
  };
}

describe('http2 proxy: flow control, resets and draining', () => {
  let proxy: H2Proxy;
  let up: Awaited<ReturnType<typeof startRawUpstream>>;
  let client: ClientHttp2Session;
  const upstreamProgress = { written: 0, received: 0, aborted: 0, finished: 0, uploads: 0 };

  before(async () => {
    proxy = await startH2Proxy();
    up = await startRawUpstream((req, res) => {
      const url = new URL(req.url!, 'http://x');
      req.on('aborted', () => upstreamProgress.aborted++);
      if (url.pathname === '/download') {
        // 32 MB in 64 KB pieces, each written only when the socket has room: the upstream follows backpressure.
        const piece = Buffer.alloc(64 * 1024, 'x');
        res.setHeader('content-length', BIG);
        const pump = () => {
          while (upstreamProgress.written < BIG) {
            upstreamProgress.written += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        req.resume();
        return pump();
      }
      if (url.pathname === '/upload') {
        // Reads nothing for `hold` ms, then counts the body.
        upstreamProgress.uploads++;
        req.pause();
        setTimeout(() => {
          req.on('data', (c: Buffer) => (upstreamProgress.received += c.length));
          req.on('end', () => {
            upstreamProgress.finished++;
            res.end(String(upstreamProgress.received));
          });
          req.resume();
        }, Number(url.searchParams.get('hold') ?? 0));
        return;
      }
      if (url.pathname === '/early') {
        // Answers at once, without reading the body (a 413 from an app with an upload limit).
        res.writeHead(413, { 'content-type': 'text/plain' });
        return res.end('too big');
      }
      if (url.pathname === '/slow') {
        req.resume();
        const timer = setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') ?? 3000));
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (url.pathname === '/trickle') {
        req.resume();
        res.write('first part;');
        const timer = setTimeout(() => res.end('never'), 5000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'f1', address: up.address }], 5000));
    client = h2Client(proxy);
  });
  after(async () => {
    client.close();
    await proxy.close(200);
    await up.close();
  });

  test('a slow client pauses the upstream: 32 MB download, bounded in flight, then all of it arrives', async () => {
    upstreamProgress.written = 0;
    const req = client.request({ ':path': '/download', ':authority': 'app.localhost' });
    req.on('error', () => {});
    await new Promise((r) => req.once('response', r));
    req.pause(); // read nothing: the stream window closes and the proxy must stop reading the app
    await sleep(600);
    const writtenWhilePaused = upstreamProgress.written;
    console.log(`# app wrote ${(writtenWhilePaused / MB).toFixed(2)} MB while the client read nothing`);
    assert.ok(writtenWhilePaused < IN_FLIGHT_BOUND, `the app wrote ${(writtenWhilePaused / MB).toFixed(1)} MB to a client that read nothing`);
    let received = 0;
    let wrong = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (c[0] !== 120 || c[c.length - 1] !== 120) wrong++;
    });
    req.resume();
    await new Promise((resolve, reject) => {
      req.on('end', resolve);
      req.on('close', () => (req.rstCode ? reject(new Error(`reset ${req.rstCode}`)) : resolve(null)));
    });
    assert.equal(received, BIG);
    assert.equal(wrong, 0);
    await waitFor('the exchange to end', () => proxy.routes.targetStats().f1.inflight === 0);
  });

  test('a slow app pauses the client: 32 MB upload, bounded in flight, then all of it arrives', async () => {
    upstreamProgress.received = 0;
    const req = client.request({ ':path': '/upload?hold=600', ':method': 'POST', ':authority': 'app.localhost', 'content-length': String(BIG) });
    req.on('error', () => {});
    let flushed = 0;
    let offered = 0;
    const piece = Buffer.alloc(64 * 1024, 'y');
    const startedAt = Date.now();
    const pump = () => {
      while (offered < BIG) {
        offered += piece.length;
        const ok = req.write(piece, () => (flushed += piece.length));
        if (!ok) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
    await sleep(450);
    assert.equal(upstreamProgress.received, 0, 'the app has not read yet');
    console.log(`# client flushed ${(flushed / MB).toFixed(2)} MB while the app read nothing`);
    assert.ok(flushed < IN_FLIGHT_BOUND, `the client got ${(flushed / MB).toFixed(1)} MB out while the app read nothing`);
    const body = await new Promise<string>((resolve, reject) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (text += d));
      req.on('end', () => resolve(text));
      req.on('close', () => (req.rstCode ? reject(new Error(`reset ${req.rstCode}`)) : undefined));
    });
    assert.equal(Number(body), BIG);
    assert.ok(Date.now() - startedAt >= 600);
  });

  test('an app answering before reading the body: the whole answer, then RST_STREAM(NO_ERROR) stops the upload', async () => {
    const closedBefore = up.state.closedSockets;
    const req = client.request({ ':path': '/early', ':method': 'POST', ':authority': 'app.localhost', 'content-length': String(BIG) });
    let written = 0;
    const piece = Buffer.alloc(64 * 1024, 'e');
    const pump = () => {
      while (written < BIG && !req.destroyed && !req.closed) {
        written += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
    };
    req.on('error', () => {});
    pump();
    const reply = await new Promise<{ status: number; body: string; rstCode: number | undefined }>((resolve) => {
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('close', () => resolve({ status, body, rstCode: req.rstCode }));
    });
    assert.deepEqual(reply, { status: 413, body: 'too big', rstCode: constants.NGHTTP2_NO_ERROR });
    assert.ok(written < BIG, 'the client stopped sending');
    await waitFor('the upstream connection with an unread body closed', () => up.state.closedSockets > closedBefore);
    await waitFor('nothing in flight', () => proxy.routes.targetStats().f1.inflight === 0);
  });

  test('a client RST_STREAM mid-body aborts the upstream exchange and closes that upstream connection', async () => {
    const abortedBefore = upstreamProgress.aborted;
    const uploadsBefore = upstreamProgress.uploads;
    const closedBefore = up.state.closedSockets;
    const req: ClientHttp2Stream = client.request({ ':path': '/upload?hold=0', ':method': 'POST', ':authority': 'app.localhost', 'content-length': '1000000' });
    req.on('error', () => {});
    req.write(Buffer.alloc(100_000, 'z'));
    await waitFor('the request to reach the app', () => upstreamProgress.uploads > uploadsBefore);
    req.close(constants.NGHTTP2_CANCEL);
    await waitFor('the upstream request to be aborted', () => upstreamProgress.aborted > abortedBefore);
    await waitFor('that upstream connection to close', () => up.state.closedSockets > closedBefore);
    await waitFor('nothing in flight', () => proxy.routes.targetStats().f1.inflight === 0);
    assert.equal((await h2Request(client, { ':path': '/' })).status, 200, 'the session goes on');
  });

  test('a client RST_STREAM mid-response closes that upstream connection', async () => {
    const closedBefore = up.state.closedSockets;
    const req = client.request({ ':path': '/trickle', ':authority': 'app.localhost' });
    req.on('error', () => {});
    await new Promise((r) => req.once('data', r));
    req.close(constants.NGHTTP2_CANCEL);
    await waitFor('that upstream connection to close', () => up.state.closedSockets > closedBefore);
    await waitFor('nothing in flight', () => proxy.routes.targetStats().f1.inflight === 0);
  });

  test('a draining target: its requests are cut at the drain deadline (502 before the answer, reset during it)', async () => {
    // The drain time is the one of the table the target leaves (as on the HTTP/1 path).
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'd1', address: up.address }], 300));
    const waiting = h2Request(client, { ':path': '/slow?ms=4000' });
    const streaming = client.request({ ':path': '/trickle', ':authority': 'app.localhost' });
    streaming.on('error', () => {});
    const streamingClosed = new Promise<number>((resolve) => streaming.on('close', () => resolve(streaming.rstCode ?? -1)));
    streaming.resume();
    await waitFor('both requests in flight', () => proxy.routes.targetStats().d1?.inflight === 2);
    const switchedAt = Date.now();
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'd2', address: up.address }], 300));
    assert.equal(proxy.routes.targetStats().d1.state, 'removed');
    assert.equal((await h2Request(client, { ':path': '/' })).status, 200, 'new requests go to the new target');
    const cut = await waiting;
    assert.equal(cut.status, 502);
    assert.equal(await streamingClosed, constants.NGHTTP2_INTERNAL_ERROR);
    const elapsed = Date.now() - switchedAt;
    assert.ok(elapsed >= 250 && elapsed < 2000, `cut after ${elapsed} ms (deadline 300 ms)`);
    await waitFor('the drained target to be forgotten', () => proxy.routes.targetStats().d1 === undefined);
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'f1', address: up.address }], 5000));
  });
});

describe('http2 proxy: session lifetime', () => {
  test('shutdown sends GOAWAY: the stream in flight finishes, new ones are refused, then the socket closes', async () => {
    const proxy = await startH2Proxy();
    const up = await startRawUpstream((req, res) => {
      req.resume();
      setTimeout(() => res.end('finished'), 300);
    });
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 's1', address: up.address }]));
      const goaway = new Promise<number>((resolve) => client.once('goaway', (code: number) => resolve(code)));
      const inflight = h2Request(client, { ':path': '/' });
      await waitFor('the request in flight', () => proxy.routes.targetStats().s1?.inflight === 1);
      assert.equal(proxy.sessions.size, 1);
      for (const session of proxy.sessions) session.shutdown();
      assert.equal(await goaway, constants.NGHTTP2_NO_ERROR);
      await assert.rejects(h2Request(client, { ':path': '/' }), 'no new stream after GOAWAY');
      const reply = await inflight;
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'finished');
      await waitFor('the session to close its socket', () => proxy.sessions.size === 0);
    } finally {
      client.close();
      await proxy.close();
      await up.close();
    }
  });

  test('an idle session is closed after the idle timeout; a busy one is not', async () => {
    const proxy = await startH2Proxy({ connection: { idleTimeoutMs: 300 } });
    const up = await startRawUpstream((req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 700);
    });
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'i1', address: up.address }]));
      const closed = new Promise((resolve) => client.once('close', resolve));
      const reply = await h2Request(client, { ':path': '/' });
      assert.equal(reply.body.toString(), 'slow', 'a request longer than the idle timeout completes');
      const idleFrom = Date.now();
      await closed;
      const idle = Date.now() - idleFrom;
      assert.ok(idle >= 200 && idle < 3000, `closed after ${idle} ms idle`);
    } finally {
      client.close();
      await proxy.close();
      await up.close();
    }
  });
});
