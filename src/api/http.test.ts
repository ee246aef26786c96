import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ClientGoneError, readJsonBody, sendError, sendJson } from './http.ts';

/** readJsonBody and sendError behind a real HTTP server on port 0: a 1 KiB limit and a 300 ms deadline. */
let server: Server;
let port = 0;
const gone: string[] = [];
before(async () => {
  server = createServer(async (req, res) => {
    try {
      sendJson(res, 200, { body: await readJsonBody(req, 1024, 300) });
    } catch (error) {
      if (error instanceof ClientGoneError) {
        gone.push(req.url!);
        res.destroy();
        return;
      }
      sendError(res, error, req);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** Sends `head` and `parts` on a fresh connection; resolves with what came back once `waitMs` passed or the server closed. */
function exchange(head: string, parts: (string | Buffer)[], options: { waitMs?: number; abortAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (received += text));
    socket.on('error', () => {});
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, options.waitMs ?? 2000);
    socket.on('close', done);
    socket.write(head);
    for (const part of parts) socket.write(part);
    if (options.abortAfterMs !== undefined) setTimeout(() => socket.destroy(), options.abortAfterMs);
  });
}

const head = (path: string, framing: string) => `POST ${path} HTTP/1.1\r\nhost: x\r\n${framing}\r\n`;
const errorOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error as { code: string; message: string };

test('a body that stops arriving gets 408 BODY_TIMEOUT instead of holding the handler forever', async () => {
  const answer = await exchange(head('/stall', 'content-length: 100\r\n'), ['{"a":'], { waitMs: 1000 });
  assert.match(answer, /^HTTP\/1\.1 408 /);
  const error = errorOf(answer);
  assert.equal(error.code, 'BODY_TIMEOUT');
  assert.equal(error.message, 'the request body did not arrive within 0.3 s');
});

test('a chunked body over the limit gets 413, and the client reads it while still sending', async () => {
  const chunk = `400\r\n${' '.repeat(1024)}\r\n`;
  const answer = await exchange(head('/big', 'transfer-encoding: chunked\r\n'), [chunk, chunk, chunk, '0\r\n\r\n'], { waitMs: 1000 });
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.equal(errorOf(answer).code, 'BODY_TOO_LARGE');
});

test('bytes that are not UTF-8 are BODY_INVALID, not JSON with replacement characters', async () => {
  const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"\xff"}
  const answer = await exchange(head('/utf8', `content-length: ${body.length}\r\n`), [body], { waitMs: 500 });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(errorOf(answer).message, /UTF-8/);
});

test('a client that goes away mid-body is told apart from a bad request', async () => {
  await exchange(head('/abort', 'content-length: 100\r\n'), ['{"a":'], { abortAfterMs: 50, waitMs: 1000 });
  assert.deepEqual(gone, ['/abort']);
});
