import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAccessLine, type AccessEntry } from '../../dataplane/access-log.ts';
import { accessLine, isoNow } from './entry.ts';

const base: AccessEntry = {
  time: '2026-12-07T15:28:04.123Z',
  ip: '127.0.0.1',
  method: 'GET',
  path: '/',
  status: 200,
  bytes: 12,
  ms: 1.234,
  host: 'hello.localhost',
  app: 'hello',
  release: 'rel_1',
  instance: 'ins_1',
  id: 'abc123',
  proto: 'h1',
  tls: false,
};

test('a line is exactly JSON.stringify of the entry, whatever the client put in its strings', () => {
  const hostile = ['plain', 'quote"inside', 'back\\slash', 'new\nline', 'tab\t', '\u0000nul', 'del\u007f', 'é accent', '日本', 'emoji 🚀', 'lone \ud800 surrogate', '\u2028sep', '', '</script>'];
  for (const text of hostile) {
    for (const field of ['ip', 'method', 'path', 'host', 'app', 'release', 'instance', 'id'] as const) {
      const entry = { ...base, [field]: text };
      assert.equal(accessLine(entry), JSON.stringify(entry) + '\n', `${field} = ${JSON.stringify(text)}`);
      assert.deepEqual(parseAccessLine(accessLine(entry).slice(0, -1)), entry);
    }
  }
  const answeredByProxy = { ...base, app: null, release: null, instance: null, status: 404, proto: 'h2' as const, tls: true, ms: 0 };
  assert.equal(accessLine(answeredByProxy), JSON.stringify(answeredByProxy) + '\n');
  const chaos: AccessEntry = { ...base, status: 503, chaos: true };
  assert.equal(accessLine(chaos), JSON.stringify(chaos) + '\n');
});

test('isoNow is the current time as ISO 8601', () => {
  const before = Date.now();
  const at = Date.parse(isoNow());
  assert.ok(at >= before && at <= Date.now(), `${at} within [${before}, now]`);
  assert.match(isoNow(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});
