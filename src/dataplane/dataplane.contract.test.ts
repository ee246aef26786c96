/**
 * The data-plane port's contract, run against both implementations: the proxy in this process and
 * the proxy as its own process (spawned for real, talked to over its Unix socket).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../test/support/http.ts';
import { silentLogger } from '../lib/log.ts';
import { startUpstream, tableFor } from '../proxy/upstream.test-support.ts';
import { createInProcessDataPlane } from '../proxy/in-process.ts';
import { createProxyProcess } from './proxy-process.ts';
import { StaleRouteTableError, type DataPlane } from './route-table.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function proxyProcess(): DataPlane {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dataplane-'));
  dirs.push(dir);
  return createProxyProcess({ runDir: dir, logFile: join(dir, 'proxy.log'), listen: { host: '127.0.0.1', port: 0 }, version: 'test', log: silentLogger, ownerId: 'contract-test' });
}

const implementations: [string, () => DataPlane][] = [
  ['in-process', () => createInProcessDataPlane({ host: '127.0.0.1', port: 0 })],
  ['proxy process', proxyProcess],
];

for (const [name, create] of implementations) {
  describe(`data plane contract: ${name}`, () => {
    test('routes by the table it was given, and refuses an older one without changing anything', async () => {
      const dataplane = create();
      const upstream = await startUpstream('up');
      try {
        const { port } = await dataplane.start();
        const table = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
        await dataplane.apply(table);
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200);

        const older = { ...tableFor('app', ['app.localhost'], []), generation: table.generation - 1 };
        const refused = await dataplane.apply(older).then(() => null, (error: unknown) => error);
        assert.ok(refused instanceof StaleRouteTableError, `refused with StaleRouteTableError, got ${refused}`);
        assert.equal(refused.current, table.generation, 'the error says which generation to count on from');
        assert.equal((await dataplane.stats()).generation, table.generation);
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200, 'still routed by the newer table');
      } finally {
        await dataplane.stop();
        await upstream.close();
      }
    });
  });
}

test('the proxy process keeps its route table across its own restart', async () => {
  const dataplane = proxyProcess();
  const upstream = await startUpstream('up');
  try {
    await dataplane.start();
    const table = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
    await dataplane.apply(table);
    await dataplane.stop();
    const { port } = await dataplane.start();
    assert.equal((await dataplane.stats()).generation, table.generation);
    assert.equal((await request({ port, host: 'app.localhost' })).status, 200);
  } finally {
    await dataplane.stop();
    await upstream.close();
  }
});
