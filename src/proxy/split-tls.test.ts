/**
 * A canary split over TLS, through the TLS listener's two paths (HTTP/2 and HTTP/1.1 by ALPN), real
 * upstreams on 127.0.0.1: the split cookie is Secure, HTTP/2's split cookie fields are read once joined,
 * hostile values are replaced, sides and per-release counts are as over plain HTTP (split-traffic.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { CanarySplit, RouteTable, Target } from '../dataplane/route-table.ts';
import { h2Client, h2Request, startH2Proxy } from './http2/h2.test-support.ts';
import { addressBucket } from './split.ts';
import { startUpstream } from './upstream.test-support.ts';

function splitTable(targets: Partial<Target>[], split: CanarySplit): RouteTable {
  const full = targets.map((t, i) => ({ id: t.id ?? `t${i}`, release: t.release ?? 'v1', address: t.address!, weight: 1, state: 'active' as const }));
  return { generation: 1, apps: { app: { hosts: ['app.localhost'], drainTimeoutMs: 2000, targets: full, split } } };
}

const splitCookies = (reply: { headers: Record<string, unknown> }) => ((reply.headers['set-cookie'] as string[] | undefined) ?? []).filter((c) => c.startsWith('berth_split='));

describe('canary split over TLS and HTTP/2', () => {
  test('the cookie is Secure over TLS, on HTTP/1.1 and HTTP/2; split cookie fields are read; sides as over HTTP/1', async () => {
    const proxy = await startH2Proxy();
    // Apps with a cookie of their own, which must reach the client untouched next to the proxy's.
    const app = (name: string) => startUpstream(name, (_req, res) => {
      res.setHeader('set-cookie', 'app=1; Path=/');
      res.end(JSON.stringify({ name }));
    });
    const stable = await app('stable');
    const canary = await app('canary');
    const session = h2Client(proxy);
    try {
      proxy.routes.apply(splitTable([{ id: 's1', release: 'v1', address: stable.address }, { id: 'c1', release: 'v2', address: canary.address }], { release: 'v2', percent: 10, sticky: 'cookie' }));
      const own = addressBucket('127.0.0.1');
      const side = (body: Buffer) => JSON.parse(body.toString()).name;

      const fresh = await h2Request(session, { ':path': '/' });
      assert.equal(side(fresh.body), own < 10 ? 'canary' : 'stable');
      assert.deepEqual(fresh.headers['set-cookie'], ['app=1; Path=/', `berth_split=${own}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure`]);

      for (let i = 0; i < 10; i++) {
        const back = await h2Request(session, { ':path': '/', cookie: 'berth_split=3' });
        assert.equal(side(back.body), 'canary');
        assert.deepEqual(back.headers['set-cookie'], ['app=1; Path=/']);
        const split = await h2Request(session, { ':path': '/', cookie: ['a=1', 'berth_split=42'] });
        assert.equal(side(split.body), 'stable', 'two cookie fields, joined by the proxy');
        assert.deepEqual(split.headers['set-cookie'], ['app=1; Path=/']);
      }
      const hostile = await h2Request(session, { ':path': '/', cookie: 'berth_split=1e2' });
      assert.equal(hostile.status, 200);
      assert.deepEqual(hostile.headers['set-cookie'], ['app=1; Path=/', `berth_split=${own}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure`]);

      const overTls = await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: proxy.port, servername: 'localhost', ca: proxy.ca, headers: { host: 'app.localhost' }, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(splitCookies(overTls), [`berth_split=${own}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure`], 'HTTP/1.1 over TLS');

      const counts = proxy.routes.releaseStats();
      assert.equal(counts.find((r) => r.release === 'v2')!.requests, 10 + (own < 10 ? 3 : 0));
    } finally {
      session.close();
      await proxy.close();
      await stable.close();
      await canary.close();
    }
  });
});
