import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { TestBerth } from '../support/berth.ts';

/**
 * No request body can end the daemon: oversized, stalled and aborted bodies, chunked and with a
 * Content-Length, on JSON endpoints and on the upload, all at once. The daemon must still answer 15 s
 * later, after every timer those requests started (the 10 s drain cut above all) has fired.
 */
let berth: TestBerth;
before(async () => {
  berth = new TestBerth();
  await berth.startDaemon(['--max-upload', '64kb']);
  assert.equal((await berth.api('POST', '/v1/apps', { name: 'shapes' })).status, 201);
});
after(async () => {
  await berth?.close();
});

/** One raw connection: what it sent is scripted, what came back is collected. */
class RawClient {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => (this.received += text));
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Writes and waits until the kernel took it (or the server closed on us). */
  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  get status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : undefined;
  }
}

/** A body over the endpoint's limit: 2 MiB for JSON (1 MiB limit); for the upload (64kb) real gzip, so only its size is wrong. */
type Target = { name: string; method: string; path: string; type: string; payload: Buffer };
const jsonPayload = Buffer.alloc(2 * 1024 * 1024, 0x20);
const targets: Target[] = [
  { name: 'create app', method: 'POST', path: '/v1/apps', type: 'application/json', payload: jsonPayload },
  { name: 'env', method: 'PATCH', path: '/v1/apps/shapes/env', type: 'application/json', payload: jsonPayload },
  { name: 'upload', method: 'POST', path: '/v1/apps/shapes/deploys', type: 'application/gzip', payload: gzipSync(randomBytes(256 * 1024), { level: 0 }) },
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);

interface Shape {
  name: string;
  /** The status the client must read, when the server answers at all. */
  expect?: number;
  run(client: RawClient): Promise<void>;
}

function shapesFor(target: Target): Shape[] {
  const head = (framing: string) => `${target.method} ${target.path} HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer ${berth.token}\r\nContent-Type: ${target.type}\r\n${framing}\r\n`;
  const size = 16 * 1024;
  const pieces = Array.from({ length: Math.ceil(target.payload.length / size) }, (_, i) => target.payload.subarray(i * size, (i + 1) * size));
  const piece = pieces[0];
  return [
    {
      name: 'chunked, too large',
      expect: 413,
      async run(client) {
        await client.send(head('Transfer-Encoding: chunked\r\n'));
        for (const part of pieces) if (!client.socket.destroyed) await client.send(chunk(part));
        await client.send('0\r\n\r\n');
      },
    },
    {
      name: 'Content-Length, too large, all sent',
      expect: 413,
      async run(client) {
        await client.send(head(`Content-Length: ${target.payload.length}\r\n`));
        for (const part of pieces) if (!client.socket.destroyed) await client.send(part);
      },
    },
    {
      name: 'Content-Length, too large, then the client stops sending',
      expect: 413,
      async run(client) {
        await client.send(head(`Content-Length: ${target.payload.length}\r\n`));
        await client.send(piece);
      },
    },
    {
      name: 'chunked, too large, then the client aborts',
      async run(client) {
        await client.send(head('Transfer-Encoding: chunked\r\n'));
        for (const part of pieces) if (!client.socket.destroyed) await client.send(chunk(part));
        await pause(50);
        client.socket.destroy();
      },
    },
    {
      name: 'Content-Length, stalls mid-body',
      async run(client) {
        await client.send(head('Content-Length: 1000\r\n'));
        await client.send('{"name":');
      },
    },
    {
      name: 'chunked, stalls mid-body',
      async run(client) {
        await client.send(head('Transfer-Encoding: chunked\r\n'));
        await client.send(chunk(Buffer.from('{"name":')));
      },
    },
    {
      name: 'Content-Length, aborts mid-body',
      async run(client) {
        await client.send(head('Content-Length: 100000\r\n'));
        await client.send(piece.subarray(0, 1000));
        await pause(50);
        client.socket.destroy();
      },
    },
    {
      name: 'chunked, aborts mid-body',
      async run(client) {
        await client.send(head('Transfer-Encoding: chunked\r\n'));
        await client.send(chunk(piece.subarray(0, 1000)));
        await pause(50);
        client.socket.destroy();
      },
    },
    {
      name: 'chunked, broken chunk framing',
      expect: 400,
      async run(client) {
        await client.send(head('Transfer-Encoding: chunked\r\n'));
        await client.send('zz\r\nnot a chunk\r\n');
      },
    },
  ];
}

/** Request targets that are no URL at all, with and without a token. */
const oddTargets: Shape[] = ['//[', '//[::1', '/v1/apps/%', 'http://[/v1/apps'].flatMap((target) => [
  {
    name: `GET ${target} with a token`,
    async run(client: RawClient) {
      await client.send(`GET ${target} HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer ${berth.token}\r\n\r\n`);
    },
  },
  {
    name: `GET ${target} without a token`,
    async run(client: RawClient) {
      await client.send(`GET ${target} HTTP/1.1\r\nHost: berth\r\n\r\n`);
    },
  },
]);

test('oversized, stalled and aborted bodies, on JSON endpoints and the upload: the daemon keeps serving', { timeout: 60_000 }, async () => {
  const port = Number(new URL(berth.apiUrl).port);
  const all = [...targets.flatMap((target) => shapesFor(target).map((shape) => ({ ...shape, name: `${target.name}: ${shape.name}` }))), ...oddTargets];
  const clients = all.map(() => new RawClient(port));
  const sentAt = Date.now();
  try {
    await Promise.all(all.map((shape, i) => shape.run(clients[i])));
    // Every timer those requests started (the drain of a refused body is cut at 10 s) has fired by then.
    await pause(Math.max(0, sentAt + 15_000 - Date.now()));

    assert.equal(berth.daemon!.exitCode, null, `the daemon is still running:\n${berth.daemonLog.slice(-3000)}`);
    const info = await berth.api('GET', '/v1/info');
    assert.equal(info.status, 200, 'and answering');
    assert.equal((await berth.api('POST', '/v1/apps', { name: 'after-shapes' })).status, 201, 'and its JSON endpoints work');
    for (const [i, shape] of all.entries()) {
      if (shape.expect !== undefined) assert.equal(clients[i].status, shape.expect, `${shape.name}: ${clients[i].received.slice(0, 200)}`);
    }
    assert.doesNotMatch(berth.daemonLog, /TypeError|uncaught/i);
  } finally {
    for (const client of clients) client.socket.destroy();
  }
});
