/** The base images tests build from this machine's files (test/support/docker-images.ts) work as promised. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureBusyboxImage, ensureNodeImage, ensureRedisImage, IMAGE_LABEL } from '../../../test/support/docker-images.ts';
import { dockerSuite } from '../../../test/support/docker.ts';
import { within } from '../contract-helpers.test-support.ts';
import { collect, engineHarness, type EngineHarness } from './engine-harness.test-support.ts';

const docker = await dockerSuite();

describe('test base images', { skip: docker.skip, timeout: 300_000 }, () => {
  let h: EngineHarness;
  before(async () => {
    h = await engineHarness();
  });
  after(async () => {
    await h?.cleanup();
  });

  const output = async (id: string) => (await collect(h.engine.containerLogs(id, {}))).map((e) => e.line);

  test('berth-test/node:24 runs this Node 24 and npm, as user node (uid 1000)', async () => {
    const image = await ensureNodeImage();
    assert.equal(image, 'berth-test/node:24');
    const script = 'node -e "console.log(process.version)" && npm --version && id -u && echo "$NODE_EXTRA_CA_CERTS" && ls -ld /tmp && pwd';
    const id = await h.run('node', { Image: image, User: 'node', Cmd: ['sh', '-c', script] });
    assert.equal(await within(h.engine.waitContainer(id), 60_000, 'node and npm to run'), 0, (await output(id)).join('\n'));
    const [version, npm, uid, ca, tmp, cwd] = await output(id);
    assert.equal(version, process.version);
    assert.match(npm, /^\d+\.\d+\.\d+$/);
    assert.equal(uid, '1000');
    assert.equal(ca, '/etc/ssl/certs/ca-certificates.crt');
    assert.match(tmp, /^drwxrwxrwt/);
    assert.equal(cwd, '/app');
  });

  test('berth-test/redis:7 serves other containers on its network', async () => {
    const [redis, node] = await Promise.all([ensureRedisImage(), ensureNodeImage()]);
    const network = h.name('redis-net');
    await h.engine.createNetwork(network, h.labels);
    const server = await h.run('redis', { Image: redis, HostConfig: { NetworkMode: network }, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['cache'] } } } });
    // A client speaking RESP over plain TCP, retrying until the server listens (bounded).
    const client = `
      const net = require('node:net');
      const deadline = Date.now() + 20000;
      const attempt = () => {
        const socket = net.connect(6379, 'cache');
        let answer = '';
        socket.on('connect', () => socket.write('SET greeting hello\\r\\nGET greeting\\r\\n'));
        socket.on('data', (d) => { answer += d; if (answer.includes('hello')) { console.log(JSON.stringify(answer)); socket.end(); } });
        socket.on('error', (e) => { if (Date.now() > deadline) { console.error(e.message); process.exit(2); } setTimeout(attempt, 200); });
      };
      attempt();`;
    const id = await h.run('redis-client', { Image: node, Cmd: ['node', '-e', client], HostConfig: { NetworkMode: network } });
    assert.equal(await within(h.engine.waitContainer(id), 60_000, 'the redis client'), 0, (await output(id)).join('\n'));
    assert.deepEqual(await output(id), [JSON.stringify('+OK\r\n$5\r\nhello\r\n')]);
    const cli = await h.engine.exec(server, ['redis-cli', 'ping']);
    assert.deepEqual(cli, { exitCode: 0, output: 'PONG\n' });
  });

  test('asking again, even several at once, reuses the labelled image instead of making it again', async () => {
    const before = await h.engine.inspectImage(await ensureBusyboxImage());
    const refs = await Promise.all([ensureBusyboxImage(), ensureBusyboxImage(), ensureNodeImage(), ensureNodeImage()]);
    assert.deepEqual(refs, ['berth-test/busybox:1', 'berth-test/busybox:1', 'berth-test/node:24', 'berth-test/node:24']);
    const after = await h.engine.inspectImage('berth-test/busybox:1');
    assert.equal(after?.Id, before?.Id);
    assert.match(after?.Labels?.[IMAGE_LABEL] ?? '', /^[0-9a-f]{16}$/);
  });
});
