/** Networks and volumes against the real engine. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dockerSuite } from '../../../test/support/docker.ts';
import { waitFor, within } from '../contract-helpers.test-support.ts';
import type { NetworkSummary } from './engine.ts';
import { EngineError } from './engine-http.ts';
import { collect, engineHarness, type EngineHarness } from './engine-harness.test-support.ts';

const docker = await dockerSuite();

describe('docker engine over HTTP: networks and volumes', { skip: docker.skip, timeout: 180_000 }, () => {
  let h: EngineHarness;
  before(async () => {
    h = await engineHarness();
  });
  after(async () => {
    await h?.cleanup();
  });

  test('networks are created with labels, listed by label, and removed idempotently', async () => {
    const id = await h.engine.createNetwork(h.name('net-a'), { ...h.labels, 'berth.app': 'a' });
    const internal = await h.engine.createNetwork(h.name('net-b'), { ...h.labels, 'berth.app': 'b' }, { internal: true });
    const byApp = async (app: string) => (await h.engine.listNetworks({ label: [`berth.test=${h.runId}`, `berth.app=${app}`] })) as (NetworkSummary & { Internal?: boolean })[];
    const [a] = await byApp('a');
    assert.equal(a.Id, id);
    assert.equal(a.Name, h.name('net-a'));
    assert.equal(a.Labels['berth.app'], 'a');
    assert.equal(a.Internal, false);
    assert.equal((await byApp('b'))[0].Internal, true);
    await assert.rejects(h.engine.createNetwork(h.name('net-a'), h.labels), (error) => error instanceof EngineError && error.status === 409);

    await h.engine.removeNetwork(id);
    await h.engine.removeNetwork(id); // 404: already gone
    await h.engine.removeNetwork(internal);
    assert.deepEqual(await byApp('a'), []);
  });

  test('containers on a network reach each other by alias (DNS and HTTP); disconnect cuts one off', async () => {
    const network = h.name('net-dns');
    await h.engine.createNetwork(network, h.labels);
    // The server starts on the default bridge and joins the network later, under an alias.
    const server = await h.run('server', { Cmd: ['sh', '-c', `mkdir -p /www && echo hello-${h.runId} > /www/index.html && exec httpd -f -p 8080 -h /www`] });
    await h.engine.connectNetwork(network, server, ['web-alias']);
    const client = await h.run('client', { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: network } });

    const info = await h.engine.inspectContainer(server);
    const endpoint = info?.NetworkSettings.Networks[network];
    assert.ok(endpoint?.IPAddress, 'the server has an address on the network');
    assert.ok(endpoint.Aliases?.includes('web-alias'));

    const lookup = await h.engine.exec(client, ['nslookup', 'web-alias']);
    assert.equal(lookup.exitCode, 0, lookup.output);
    assert.ok(lookup.output.includes(endpoint.IPAddress), lookup.output);
    const page = await waitFor(
      async () => {
        // No `-T`: busybox-static 1.35's wget crashes (SIGSEGV) with it; the exec timeout bounds the call.
        const answer = await h.engine.exec(client, ['wget', '-q', '-O', '-', 'http://web-alias:8080/'], { timeoutMs: 5_000 });
        return answer.exitCode === 0 && answer.output;
      },
      { timeoutMs: 15_000, what: 'the server to answer through its alias' },
    );
    assert.equal(page, `hello-${h.runId}\n`);
    const ping = await h.engine.exec(client, ['ping', '-c', '1', '-W', '2', 'web-alias']);
    assert.equal(ping.exitCode, 0, ping.output);

    await h.engine.disconnectNetwork(network, server);
    assert.equal((await h.engine.inspectContainer(server))?.NetworkSettings.Networks[network], undefined);
    const after = await h.engine.exec(client, ['wget', '-q', '-O', '-', 'http://web-alias:8080/'], { timeoutMs: 15_000 });
    assert.notEqual(after.exitCode, 0, 'after disconnecting, the alias no longer leads to the server');
    await assert.rejects(h.engine.disconnectNetwork(network, server), (error) => error instanceof EngineError && error.status >= 400);

    // A network with a container on it cannot go; without, it can.
    await assert.rejects(h.engine.removeNetwork(network), (error) => error instanceof EngineError && /active endpoints/.test(error.message));
    await h.engine.disconnectNetwork(network, client, true);
    await h.engine.removeNetwork(network);
    assert.deepEqual(await h.engine.listNetworks({ name: [network], label: [`berth.test=${h.runId}`] }), []);
  });

  test('a container joins a network at create time under an alias', async () => {
    const network = h.name('net-create');
    await h.engine.createNetwork(network, h.labels);
    await h.run('aliased', { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: network }, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['svc'] } } } });
    const client = await h.run('asker', { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: network } });
    const lookup = await h.engine.exec(client, ['nslookup', 'svc']);
    assert.equal(lookup.exitCode, 0, lookup.output);
  });

  test('volumes: labelled and listed, data outlives the container, a volume in use stays, removal is idempotent', async () => {
    const volume = h.name('data');
    await h.engine.createVolume(volume, { ...h.labels, 'berth.app': 'v' });
    const listed = await h.engine.listVolumes({ label: [`berth.test=${h.runId}`, 'berth.app=v'] });
    assert.deepEqual(
      listed.map((v) => [v.Name, v.Labels?.['berth.app']]),
      [[volume, 'v']],
    );

    const writer = await h.run('writer', { Cmd: ['sh', '-c', `echo kept-${h.runId} > /data/file`], HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }] } });
    assert.equal(await within(h.engine.waitContainer(writer), 15_000, 'the writer'), 0);
    await h.engine.removeContainer(writer, { volumes: true }); // `volumes` removes anonymous volumes only

    const reader = await h.run('reader', { Cmd: ['cat', '/data/file'], HostConfig: { Binds: [`${volume}:/data:ro`] } });
    assert.equal(await within(h.engine.waitContainer(reader), 15_000, 'the reader'), 0);
    assert.deepEqual(
      (await collect(h.engine.containerLogs(reader, {}))).map((e) => e.line),
      [`kept-${h.runId}`],
    );

    await assert.rejects(h.engine.removeVolume(volume), (error) => error instanceof EngineError && error.status === 409);
    await h.engine.removeContainer(reader);
    await h.engine.removeVolume(volume);
    await h.engine.removeVolume(volume); // 404: already gone
    assert.deepEqual(await h.engine.listVolumes({ label: [`berth.test=${h.runId}`, 'berth.app=v'] }), []);
  });

  test('removeContainer with volumes removes its anonymous volumes', async () => {
    const id = await h.run('anon', { Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'volume', Target: '/scratch' }] } }, { start: false });
    const mounts = ((await h.engine.inspectContainer(id)) as unknown as { Mounts: { Name: string }[] }).Mounts;
    assert.equal(mounts.length, 1);
    await h.engine.removeContainer(id, { volumes: true });
    assert.deepEqual(await h.engine.listVolumes({ name: [mounts[0].Name] }), []);
  });
});
