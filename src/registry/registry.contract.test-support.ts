/**
 * What every implementation of the registry port does, as tests: run against the real client on a real
 * registry (client*.test.ts) and against FakeRegistry (fake.test.ts), so a test written with the fake
 * holds for the real thing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorCode } from '../errors/catalogue.ts';
import type { RegistryCredentials, RegistryPort } from './port.ts';
import { formatReference } from '../lib/image-reference.ts';
import { parseReference } from './reference.ts';

export interface ContractSubject {
  port: RegistryPort;
  /** The registry's domain, such as 127.0.0.1:5055. */
  domain: string;
  /** Pushes a new image to `domain/target` (target with a tag); its digest. */
  push(target: string): Promise<string>;
  /** Set when the registry wants a login: the right credentials. */
  credentials: RegistryCredentials | undefined;
}

const rejectsWith = (promise: Promise<unknown>, code: ErrorCode, pattern?: RegExp) =>
  assert.rejects(promise, (error) => {
    assert.ok(isBerthError(error), String(error));
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });

/** `login`: whether the registry wants credentials (then `subject().credentials` are the right ones). */
export function registryContract(name: string, options: { login: boolean }, subject: () => ContractSubject): void {
  const unique = () => `contract/${Math.random().toString(36).slice(2, 10)}`;

  test(`${name}: a tag resolves to the digest pushed, pinned without the tag`, async () => {
    const s = subject();
    const repo = unique();
    const digest = await s.push(`${repo}:1`);
    const resolved = await s.port.resolveDigest(parseReference(`${s.domain}/${repo}:1`), { credentials: s.credentials });
    assert.equal(resolved.digest, digest);
    assert.equal(formatReference(resolved.pinned), `${s.domain}/${repo}@${digest}`);
    const again = await s.port.resolveDigest(resolved.pinned, { credentials: s.credentials });
    assert.equal(again.digest, digest, 'a pinned reference resolves to itself');
  });

  test(`${name}: a moved tag resolves to the new digest; the old one stays resolvable by digest`, async () => {
    const s = subject();
    const repo = unique();
    const first = await s.push(`${repo}:stable`);
    const second = await s.push(`${repo}:stable`);
    assert.notEqual(first, second);
    const ref = parseReference(`${s.domain}/${repo}:stable`);
    assert.equal((await s.port.resolveDigest(ref, { credentials: s.credentials })).digest, second);
    assert.equal((await s.port.resolveDigest(parseReference(`${s.domain}/${repo}@${first}`), { credentials: s.credentials })).digest, first);
  });

  test(`${name}: an unknown tag, repository or digest is IMAGE_NOT_FOUND naming the registry and image`, async () => {
    const s = subject();
    const repo = unique();
    await s.push(`${repo}:1`);
    const opts = { credentials: s.credentials };
    await rejectsWith(s.port.resolveDigest(parseReference(`${s.domain}/${repo}:nope`), opts), 'IMAGE_NOT_FOUND', new RegExp(`${s.domain}/${repo}:nope was not found on ${s.domain}: .*tag nope`));
    await rejectsWith(s.port.resolveDigest(parseReference(`${s.domain}/${unique()}:1`), opts), 'IMAGE_NOT_FOUND', /was not found/);
    await rejectsWith(s.port.resolveDigest(parseReference(`${s.domain}/${repo}@sha256:${'0'.repeat(64)}`), opts), 'IMAGE_NOT_FOUND', /manifest sha256:0000/);
  });

  test(`${name}: an aborted call rejects with the abort's reason`, async () => {
    const s = subject();
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(s.port.resolveDigest(parseReference(`${s.domain}/${unique()}:1`), { credentials: s.credentials, signal: controller.signal }), (error) => error === reason);
  });

  if (!options.login) {
    test(`${name}: an open registry accepts any login, as \`docker login\` does`, async () => {
      const s = subject();
      await s.port.verify(s.domain, { username: 'anyone', password: 'anything' });
    });
    return;
  }

  test(`${name}: the login check accepts the right password and refuses a wrong one`, async () => {
    const s = subject();
    const right = s.credentials!;
    await s.port.verify(s.domain, right);
    await rejectsWith(s.port.verify(s.domain, { username: right.username, password: `${right.password}-wrong` }), 'REGISTRY_AUTH_FAILED', /refused the login: the user name or password is wrong/);
  });

  test(`${name}: a registry that wants a login refuses none and a wrong one`, async () => {
    const s = subject();
    if (!s.credentials) throw new Error('a registry with a login needs subject().credentials');
    const repo = unique();
    await s.push(`${repo}:1`);
    const ref = parseReference(`${s.domain}/${repo}:1`);
    await rejectsWith(s.port.resolveDigest(ref), 'REGISTRY_AUTH_FAILED', /needs a login/);
    const wrong = { username: s.credentials.username, password: `${s.credentials.password}-wrong` };
    await assert.rejects(s.port.resolveDigest(ref, { credentials: wrong }), (error) => {
      assert.ok(isBerthError(error));
      assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
      assert.match(error.message, new RegExp(`registry ${s.domain} refused access to ${s.domain}/${repo}:1: the user name or password is wrong`));
      assert.ok(!JSON.stringify({ ...error.toJSON(), stack: error.stack }).includes(wrong.password), 'no password in the error');
      return true;
    });
  });
}
