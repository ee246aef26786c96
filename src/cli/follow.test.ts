import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import type { ApiEvent } from '../model/wire.ts';
import { ApiClient } from './client.ts';
import { followDeployment, parseEvent } from './follow.ts';
import { deploymentFixture, sendEvents, sendJson, startFakeApi } from './cli.test-support.ts';

const queued = deploymentFixture({ urls: [] });
const noSleep = async () => undefined;

test('events come from the SSE data; the type and seq fall back to the event name and id', () => {
  assert.deepEqual(parseEvent({ event: 'x', id: '4', data: '{"seq":4,"type":"build.log","message":"hi"}' }), { seq: 4, type: 'build.log', message: 'hi' });
  assert.deepEqual(parseEvent({ event: 'build.log', id: '5', data: '{}' }), { seq: 5, type: 'build.log', message: '' });
  assert.equal(parseEvent({ event: 'x', data: 'not json' }), undefined);
});

test('an already finished deployment is returned as it is, without a request', async () => {
  const done = { ...queued, state: 'succeeded' as const };
  const client = new ApiClient({ url: 'http://127.0.0.1:9' });
  assert.equal(await followDeployment(client, done, { onEvent: () => assert.fail('no events'), sleep: noSleep }), done);
});

test('when the server goes away for good, following gives up with DAEMON_UNREACHABLE', async () => {
  const api = await startFakeApi({
    'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, [{ seq: 1, type: 'deploy.queued' }]),
  });
  const client = new ApiClient({ url: api.url });
  const seen: ApiEvent[] = [];
  let sleeps = 0;
  const following = followDeployment(client, queued, {
    onEvent: (event) => {
      seen.push(event);
      void api.close();
    },
    sleep: async () => {
      sleeps++;
    },
  });
  await assert.rejects(following, (error) => isBerthError(error) && error.code === 'DAEMON_UNREACHABLE');
  assert.deepEqual(seen.map((event) => event.type), ['deploy.queued']);
  assert.ok(sleeps >= 5, `retried ${sleeps} times`);
});

test('a stream that ends without a final event is checked against the deployment itself', async () => {
  let gets = 0;
  const api = await startFakeApi({
    'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, []),
    'GET /v1/deployments/dep_1': (_req, res) => sendJson(res, 200, ++gets < 3 ? { ...queued, state: 'building' } : { ...queued, state: 'failed' }),
  });
  try {
    const final = await followDeployment(new ApiClient({ url: api.url }), queued, { onEvent: () => undefined, sleep: noSleep });
    assert.equal(final.state, 'failed');
    assert.equal(gets, 3);
  } finally {
    await api.close();
  }
});

test('a connection dropped mid-stream is resumed after the last event seen, to the end', async () => {
  let resumed = false;
  const api = await startFakeApi({
    'GET /v1/deployments/dep_1/events': (req, res) => {
      if (req.query.get('after') === '1') {
        resumed = true;
        return sendEvents(res, [{ seq: 2, type: 'deploy.state' }, { seq: 3, type: 'deploy.succeeded' }]);
      }
      sendEvents(res, [{ seq: 1, type: 'deploy.queued' }], { end: false });
      // Once the event is on the wire, the daemon goes away without ending the response.
      res.write(': bye\n\n', () => res.socket?.destroy());
    },
    'GET /v1/deployments/dep_1': (_req, res) => sendJson(res, 200, { ...queued, state: resumed ? 'succeeded' : 'building' }),
  });
  try {
    const seen: ApiEvent[] = [];
    const final = await followDeployment(new ApiClient({ url: api.url }), queued, { onEvent: (event) => seen.push(event), sleep: noSleep });
    assert.equal(final.state, 'succeeded');
    assert.deepEqual(seen.map((event) => event.seq), [1, 2, 3]);
    const streams = api.requests.filter((request) => request.path.endsWith('/events'));
    assert.deepEqual(streams.map((request) => request.query.get('after')), [null, '1']);
  } finally {
    await api.close();
  }
});
