import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import type { RouteTable } from '../../src/dataplane/route-table.ts';
import { framingCorpus, HOST } from './corpus.ts';
import { runCorpus, type CaseOutcome, type Lane } from './differential.ts';
import { startRecorder, type Recorder } from './recorder.ts';
import { startNginx } from './nginx.ts';
import { toolSuite } from '../support/tools.ts';

const LANES = 6;

describe('proxy framing: the upstream reads exactly the requests berth parsed', () => {
  const proxies: ProxyServer[] = [];
  const recorders: Recorder[] = [];
  const lanes: Lane[] = [];

  before(async () => {
    for (let i = 0; i < LANES; i++) {
      const recorder = await startRecorder();
      // One pooled connection per lane: the canary after each case reuses whatever the case left behind.
      const proxy = await startProxyServer({ host: '127.0.0.1', port: 0, connection: { responseTimeoutMs: 1500, headTimeoutMs: 2000 }, pool: { maxIdle: 1 } });
      const table: RouteTable = {
        generation: 1,
        apps: { app: { hosts: [HOST], drainTimeoutMs: 1000, targets: [{ id: 't', release: 'v1', address: `127.0.0.1:${recorder.port}`, weight: 1, state: 'active' }] } },
      };
      proxy.apply(table);
      recorders.push(recorder);
      proxies.push(proxy);
      lanes.push({ port: proxy.address.port, recorder });
    }
  });
  after(async () => {
    for (const proxy of proxies) await proxy.close(100);
    for (const recorder of recorders) await recorder.close();
  });

  test('every case of the corpus, whole, split and byte by byte', async () => {
    const cases = framingCorpus();
    assert.ok(cases.length >= 300, `the corpus has ${cases.length} cases`);
    const outcomes = await runCorpus(lanes, cases);
    const failed = outcomes.filter((o) => o.problems.length > 0);
    assert.equal(failed.length, 0, `${failed.length} of ${outcomes.length} cases disagree:\n${report(failed)}`);
    // The corpus must exercise both sides: forwarded requests and refusals of every kind.
    const refused = new Set(outcomes.filter((o) => o.expected.end === 'refused').map((o) => o.expected.answers.at(-1)!.status));
    assert.deepEqual([...refused].sort(), [400, 405, 417, 431, 501, 505]);
    assert.ok(outcomes.filter((o) => o.seen.length >= 2).length > 50, 'many cases forward pipelined requests');
  });
});

function report(failed: CaseOutcome[]): string {
  return failed
    .slice(0, 40)
    .map((o) => `- [${o.case.family}] ${o.case.name}\n    ${o.problems.join('\n    ')}`)
    .join('\n');
}

/**
 * Cases nginx refuses that berth forwards, each for a reason: berth follows RFC 9110/9112 where nginx is
 * stricter than they are, and the differential above proves the app reads these exactly as berth does.
 */
const STRICTER_IN_NGINX: [string, string][] = [
  ['Transfer-Encoding: "chunked\t"', 'a TAB is optional whitespace around a field value (RFC 9110 5.5); nginx does not trim it'],
  ['Transfer-Encoding: "\tchunked"', 'the same, before the value'],
  ['header line "Transfer-Encoding:\\tchunked"', 'the same'],
  ['header line "Content-Length:\\t5"', 'the same'],
  ['OPTIONS *', 'asterisk-form is valid for OPTIONS (RFC 9112 3.2.4); nginx has no use for it'],
];

describe('proxy framing: berth refuses whatever nginx refuses', () => {
  const nginx = toolSuite('nginx', 'nginx-light');
  test('the corpus through nginx, to the same kind of recorder', { skip: nginx.skip }, async () => {
    const recorder = await startRecorder();
    const server = await startNginx(nginx.path!, recorder.port);
    try {
      // Only nginx's answers are compared here: no canary, no wait for a close nginx may not make.
      const cases = framingCorpus().filter((c) => !c.name.endsWith('(byte by byte)'));
      const lanes = Array.from({ length: LANES }, () => ({ port: server.port, recorder }));
      const outcomes = await runCorpus(lanes, cases, { answersOnly: true });
      const laxer: string[] = [];
      for (const o of outcomes) {
        const got = o.client.answers.map((a) => a.status);
        const berth = o.expected.answers.map((a) => a.status);
        // nginx answered a request with an error of its own where berth forwards it to the app.
        const nginxRefused = got.some((status, i) => status >= 400 && status !== 502 && status !== 504 && berth[i] === 200);
        const name = o.case.name.replace(/ \(split\)$/, '');
        if (nginxRefused && o.expected.end !== 'refused' && !STRICTER_IN_NGINX.some(([known]) => known === name)) {
          laxer.push(`[${o.case.family}] ${o.case.name}: nginx answered ${got}, berth forwards (${berth})`);
        }
      }
      assert.deepEqual(laxer, [], `berth forwards requests nginx refuses:\n${laxer.join('\n')}`);
    } finally {
      await server.stop();
      await recorder.close();
    }
  });
});
