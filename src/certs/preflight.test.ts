/**
 * The pre-flight against a real DNS server (pebble-challtestsrv: 127.0.0.1 for every name unless told to
 * fail one) and real HTTP listeners: the one that serves what was published, another server, nothing, a
 * server that never answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { isBerthError, type BerthError } from '../errors/catalogue.ts';
import { freePort, pebbleTools, startPebble, type Pebble } from '../../test/support/pebble.ts';
import { startChallengePlane, type ChallengePlane } from './challenge-plane.test-support.ts';
import { createPreflight, type PublishChallenge } from './preflight.ts';

const tools = pebbleTools();

describe('ACME pre-flight', { skip: tools.skip || false }, () => {
  let pebble: Pebble;
  let plane: ChallengePlane;
  const published: { token: string; answer: string; removed: boolean }[] = [];
  const publish: PublishChallenge = async (token, answer) => {
    const entry = { token, answer, removed: false };
    published.push(entry);
    await plane.dataPlane.setChallenges({ [token]: answer });
    return async () => {
      entry.removed = true;
      await plane.dataPlane.setChallenges({});
    };
  };
  const run = (domain: string, challengePort: number, timeoutMs = 2000) =>
    createPreflight({ resolver: pebble.dns, challengePort, timeoutMs })(domain, { publish, signal: AbortSignal.timeout(20_000) });

  before(async () => {
    plane = await startChallengePlane();
    pebble = await startPebble({ httpPort: plane.port });
  });
  after(async () => {
    await pebble?.close();
    await plane?.close();
  });

  test('a name that resolves here and whose challenge path reaches this listener passes; the probe is taken down', async () => {
    published.length = 0;
    await run('shop.test', plane.port);
    assert.equal(published.length, 1);
    assert.ok(published[0].removed);
    assert.match(published[0].answer, new RegExp(`^${published[0].token}\\.[A-Za-z0-9_-]{43}$`));
    assert.equal(plane.asked.at(-1), published[0].token, 'the listener was really asked for the probe');
  });

  test('a name the DNS server fails: ACME_DNS naming the domain, the server and what it said; nothing published or fetched', async () => {
    await pebble.servfail('broken.test');
    published.length = 0;
    const asked = plane.asked.length;
    const error = await failure(run('broken.test', plane.port));
    assert.equal(error.code, 'ACME_DNS');
    assert.equal(error.message, `broken.test does not resolve at the DNS server 127.0.0.1:${pebble.dns.port}: the DNS server failed to answer for it (SERVFAIL); berth asked the CA for nothing`);
    assert.match(error.hint!, /A \(and\/or AAAA\) record for broken\.test/);
    assert.deepEqual([published.length, plane.asked.length], [0, asked]);
  });

  test('another server answers the challenge path: ACME_UNREACHABLE saying so, with the address', async () => {
    const other = createHttpServer((_req, res) => res.writeHead(404).end('nginx says no'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as { port: number }).port;
      const error = await failure(run('shop.test', port));
      assert.equal(error.code, 'ACME_UNREACHABLE');
      assert.equal(
        error.message,
        `http://shop.test:${port}/.well-known/acme-challenge/ does not reach this berth: shop.test resolves to 127.0.0.1, and 127.0.0.1:${port} answered 404: another server answers there, not this berth; berth asked the CA for nothing`,
      );
      assert.match(error.hint!, new RegExp(`port ${port}.*--acme-challenge-port`));
      assert.ok(published.at(-1)!.removed, 'the probe is taken down after a failure too');
    } finally {
      other.close();
    }
  });

  test('nothing listens, or a listener never answers: ACME_UNREACHABLE within the bound', async () => {
    const closed = await freePort();
    assert.match((await failure(run('shop.test', closed))).message, new RegExp(`127\\.0\\.0\\.1:${closed} refused the connection`));
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const error = await failure(run('shop.test', (silent.address() as { port: number }).port, 500));
      assert.match(error.message, /did not answer within 500 ms/);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('without --acme-resolver the system resolver answers (localhost from /etc/hosts)', async () => {
    await createPreflight({ resolver: null, challengePort: plane.port })('localhost', { publish, signal: AbortSignal.timeout(10_000) });
  });
});

async function failure(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isBerthError(error), `not a catalogue error: ${(error as Error)?.stack ?? error}`);
    return error;
  }
  return assert.fail('it passed');
}
