import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { appCopy, TestBerth, type ApiReply } from '../support/berth.ts';

/**
 * The API refuses what it does not understand instead of guessing: unknown fields and query parameters,
 * wrong types, values out of range, prototype keys (`toString`, `__proto__`) as names, control
 * characters in env values. Every refusal is a 4xx naming the field, and nothing is half-done.
 */
let berth: TestBerth;
const APP = 'strict';
before(async () => {
  berth = await TestBerth.start();
  await berth.deploy(APP, appCopy('versioned', { 'berth.yaml': `name: ${APP}\nhealth:\n  path: /health\n  interval: 200ms\ndeploy:\n  drain_timeout: 1s\n` }));
  assert.equal((await berth.api('POST', '/v1/apps', { name: 'empty' })).status, 201);
});
after(async () => {
  await berth?.close();
});

/** Every answer this file saw: none may say `[object Object]` or name a server path. */
const seen: ApiReply[] = [];

/** A request with a raw JSON text body: an object literal cannot carry an own `__proto__` key. */
async function raw(method: string, path: string, text?: string): Promise<ApiReply> {
  const res = await fetch(berth.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${berth.token}`, 'content-type': 'application/json' },
    ...(text === undefined ? {} : { body: text }),
  });
  const body = await res.text();
  const reply = { status: res.status, body: body ? JSON.parse(body) : undefined };
  seen.push(reply);
  return reply;
}

interface Issue {
  path: string;
  message: string;
  fix?: string;
}

function refused(reply: ApiReply, code: string, status = 400): { message: string; hint?: string; issues: Issue[] } {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body.error.code, code, JSON.stringify(reply.body));
  return { message: reply.body.error.message, hint: reply.body.error.hint, issues: reply.body.error.details?.issues ?? [] };
}

const deploymentCount = async () => (await raw('GET', `/v1/apps/${APP}/deployments`)).body.deployments.length;

describe('prototype keys', () => {
  test('scale: toString, __proto__ and constructor are not processes; nothing is saved or started', async () => {
    const before = await deploymentCount();
    for (const key of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const { issues } = refused(await raw('POST', `/v1/apps/${APP}/scale`, `{"processes":{"${key}":1}}`), 'REQUEST_INVALID');
      assert.equal(issues[0].path, `processes.${key}`);
      assert.match(issues[0].message, /has no process/);
    }
    assert.equal(await deploymentCount(), before, 'no scale started');
    const events = (await raw('GET', `/v1/apps/${APP}/events`)).body.events as { type: string }[];
    assert.ok(!events.some((e) => e.type === 'app.scaled'), 'no formation saved');
  });

  test('a formation saved with a prototype key (older berth) no longer breaks the next rollout', { timeout: 120_000 }, async () => {
    const db = new DatabaseSync(join(berth.dataDir, 'berth.db'));
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      db.prepare('UPDATE apps SET formation = ? WHERE name = ?').run('{"toString":1,"__proto__":2,"web":1}', APP);
    } finally {
      db.close();
    }
    const change = await raw('PATCH', `/v1/apps/${APP}/env`, '{"set":{"GREETING":"after-bad-formation"}}');
    assert.equal(change.status, 202, JSON.stringify(change.body));
    const done = await berth.settle(change.body.deployment.id);
    assert.ok(['draining', 'succeeded'].includes(done.state), JSON.stringify(done.error));
  });

  test('env: a value that is an object is 400 naming set.A (was a 500)', async () => {
    const { issues, message } = refused(await raw('PATCH', '/v1/apps/empty/env', '{"set":{"A":{"toString":1}}}'), 'REQUEST_INVALID');
    assert.deepEqual(issues[0], { path: 'set.A', message: 'must be a string, not an object', fix: '"A": "value"' });
    assert.match(message, /set\.A/);
  });

  test('env: toString, constructor and __proto__ are names like any other', async () => {
    const ok = await raw('PATCH', '/v1/apps/empty/env', '{"set":{"toString":"t","constructor":"c","__proto__":"p"}}');
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const names = (await raw('GET', '/v1/apps/empty/env')).body.vars.map((v: { name: string }) => v.name);
    assert.deepEqual(names.sort(), ['__proto__', 'constructor', 'toString']);
  });
});

describe('env values', () => {
  test('NUL, other C0 controls and DEL are refused naming the variable, never the value; TAB, CR and LF (PEM keys) reach the process', { timeout: 120_000 }, async () => {
    for (const [value, character] of [
      ['secret\u0000tail', 'NUL'],
      ['secret\u0001tail', 'U+0001'],
      ['secret\u001btail', 'U+001B'],
      ['secret\u007ftail', 'U+007F'],
    ]) {
      const { message, hint } = refused(await raw('PATCH', `/v1/apps/${APP}/env`, JSON.stringify({ set: { OK_NAME: 'fine', TOKEN: value } })), 'ENV_VALUE_INVALID');
      assert.match(message, /TOKEN/);
      assert.ok(message.includes(character), message);
      assert.doesNotMatch(message + hint, /secret|tail/, 'the value is never shown');
      assert.match(hint!, /base64/i);
    }
    const names = (await raw('GET', `/v1/apps/${APP}/env`)).body.vars.map((v: { name: string }) => v.name);
    assert.ok(!names.includes('OK_NAME') && !names.includes('TOKEN'), 'nothing of a refused request was saved');

    const pem = '-----BEGIN KEY-----\nabc\r\n\tdef\n-----END KEY-----';
    // A raw text body: an object literal cannot carry an own `__proto__` key.
    const change = await raw('PATCH', `/v1/apps/${APP}/env`, `{"set":{"PEM":${JSON.stringify(pem)},"toString":"plain","__proto__":"proto-value"}}`);
    assert.equal(change.status, 202, JSON.stringify(change.body));
    const done = await berth.settle(change.body.deployment.id);
    assert.ok(['draining', 'succeeded'].includes(done.state), JSON.stringify(done.error));
    const res = await fetch(`${berth.apiUrl}/v1/apps/${APP}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${berth.token}`, 'content-type': 'application/json' },
      // Hashes: the values themselves are masked in the output, as secrets are.
      body: JSON.stringify({ command: `node -e "const h = (s) => require('crypto').createHash('sha256').update(String(s)).digest('hex'); console.log(h(process.env.PEM), h(process.env.toString), h(process.env.__proto__))"`, timeoutSeconds: 60 }),
    });
    const stream = await res.text();
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.ok(stream.includes(`${sha(pem)} ${sha('plain')} ${sha('proto-value')}`), stream);
  });

  test('the CLI reports the refusal without printing the value', () => {
    const result = berth.cli(['env', 'set', 'empty', 'TOKEN=hunter2\u0007more']);
    assert.notEqual(result.code, 0);
    assert.match(result.err, /TOKEN/);
    assert.match(result.err, /base64/i);
    assert.doesNotMatch(result.out + result.err, /hunter2|more/);
    const nameless = berth.cli(['env', 'set', 'empty', '=hunter2']);
    assert.notEqual(nameless.code, 0);
    assert.doesNotMatch(nameless.out + nameless.err, /hunter2/);
  });
});

describe('unknown fields and wrong types', () => {
  test('a misspelt field is refused with a suggestion instead of being ignored', async () => {
    const before = await deploymentCount();
    const { issues } = refused(await raw('POST', `/v1/apps/${APP}/rollback`, '{"relase":"v1"}'), 'REQUEST_INVALID');
    assert.deepEqual(issues[0], { path: 'relase', message: 'is not a field of this endpoint', fix: 'did you mean "release"?' });
    assert.equal(await deploymentCount(), before, 'no rollback started');
    const run = refused(await raw('POST', `/v1/apps/${APP}/run`, '{"command":"true","timeout":5}'), 'REQUEST_INVALID');
    assert.equal(run.issues[0].fix, 'did you mean "timeoutSeconds"?');
    refused(await raw('POST', '/v1/apps', '{"name":"extra-field","nmae":"x"}'), 'REQUEST_INVALID');
    assert.equal((await raw('GET', '/v1/apps/extra-field')).status, 404, 'no app was created');
  });

  test('"stopApps": "yes" is refused, and the daemon keeps running', async () => {
    const { issues } = refused(await raw('POST', '/v1/system/shutdown', '{"stopApps":"yes"}'), 'REQUEST_INVALID');
    assert.deepEqual(issues[0], { path: 'stopApps', message: 'must be true or false, not a string', fix: '"stopApps": true' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(berth.daemon!.exitCode, null);
    assert.equal((await raw('GET', '/v1/info')).status, 200);
  });

  test('wrong shapes: a body that is not an object, scale with both processes and reset, env with nothing to do', async () => {
    refused(await raw('POST', `/v1/apps/${APP}/rollback`, '["v1"]'), 'REQUEST_INVALID');
    refused(await raw('POST', `/v1/apps/${APP}/scale`, '{"processes":{"web":2},"reset":true}'), 'REQUEST_INVALID');
    refused(await raw('POST', `/v1/apps/${APP}/scale`, '{"processes":{"web":"2"}}'), 'REQUEST_INVALID');
    refused(await raw('PATCH', '/v1/apps/empty/env', '{"set":{"A":"1"},"unset":["A"]}'), 'REQUEST_INVALID');
    refused(await raw('DELETE', '/v1/apps/empty', '{"force":true}'), 'REQUEST_INVALID');
    assert.equal((await raw('GET', '/v1/apps/empty')).status, 200, 'not destroyed');
  });
});

describe('query parameters', () => {
  test('invalid values are refused naming the parameter, never clamped or ignored', async () => {
    const cases: [string, string][] = [
      [`/v1/apps/${APP}/events?limit=-5`, 'limit'],
      [`/v1/apps/${APP}/events?limit=0`, 'limit'],
      [`/v1/apps/${APP}/events?limit=5000`, 'limit'],
      [`/v1/apps/${APP}/events?limit=ten`, 'limit'],
      [`/v1/apps/${APP}/events?limit=1&limit=2`, 'limit'],
      [`/v1/apps/${APP}/events?limt=5`, 'limt'],
      [`/v1/apps/${APP}/logs?tail=-1`, 'tail'],
      [`/v1/apps/${APP}/logs?tail=20000`, 'tail'],
      [`/v1/apps/${APP}/logs?follow=yes`, 'follow'],
      [`/v1/apps/${APP}/logs?since=yesterday`, 'since'],
      [`/v1/apps/${APP}/env?reveal=true`, 'reveal'],
      ['/v1/apps?verbose=1', 'verbose'],
    ];
    for (const [path, parameter] of cases) {
      const { issues } = refused(await raw('GET', path), 'REQUEST_INVALID');
      assert.equal(issues[0].path, parameter, path);
      assert.ok(issues[0].fix, `${path} says what to write`);
    }
    const deployment = (await raw('GET', `/v1/apps/${APP}/deployments`)).body.deployments[0].id;
    assert.equal(refused(await raw('GET', `/v1/deployments/${deployment}/events?after=-1`), 'REQUEST_INVALID').issues[0].path, 'after');
    const upload = await berth.uploadBytes(APP, Buffer.from('not even gzip'), '?wait=yes');
    assert.equal(upload.status, 400);
    assert.equal(upload.body.error.details.issues[0].path, 'wait');
    assert.equal((await raw('GET', `/v1/apps/${APP}/events?limit=2`)).body.events.length, 2, 'valid values still work');
  });
});

describe('server paths', () => {
  test('a failed deploy reports its error and output without the data directory', { timeout: 120_000 }, async () => {
    const dir = appCopy('versioned', {
      'berth.yaml': 'name: broken\n',
      'package.json': JSON.stringify({ name: 'broken', type: 'module', scripts: { build: 'node no-such-build-script.js', start: 'node server.js' } }),
    });
    const reply = await berth.upload('broken', dir);
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const failed = await berth.settle(reply.body.deployment.id, 'finished');
    assert.equal(failed.state, 'failed');
    const texts = [
      JSON.stringify((await raw('GET', `/v1/deployments/${failed.id}`)).body),
      JSON.stringify((await raw('GET', '/v1/apps/broken/events?limit=1000')).body),
      await (await fetch(`${berth.apiUrl}/v1/deployments/${failed.id}/events`, { headers: { authorization: `Bearer ${berth.token}` } })).text(),
    ];
    assert.match(texts[0], /no-such-build-script/, 'the failure is still explained');
    for (const text of texts) {
      assert.ok(!text.includes(berth.dataDir), `no data directory in: ${text.slice(0, 2000)}`);
      assert.doesNotMatch(text, /file:\/\/\//);
    }
  });

  test('no answer in this file printed [object Object], and no error a server path', () => {
    assert.ok(seen.length > 30);
    for (const reply of seen) {
      const text = JSON.stringify(reply.body);
      assert.doesNotMatch(text, /object Object/);
      // GET /v1/info names the data directory on purpose; errors never do.
      if (reply.status >= 400) assert.ok(!text.includes(berth.dataDir), text);
    }
  });
});
