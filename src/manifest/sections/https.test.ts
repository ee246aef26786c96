import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type Issue } from '../../errors/catalogue.ts';
import { parseManifest } from '../load.ts';
import { hstsHeader } from './https.ts';

const issues = (text: string): Issue[] => {
  try {
    parseManifest(text);
  } catch (error) {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', String(error));
    return error.details!.issues as Issue[];
  }
  return assert.fail(`accepted:\n${text}`);
};

test('https: redirect on and no HSTS unless set; `hsts: true` is a year', () => {
  assert.deepEqual(parseManifest('').https, { redirect: true, hsts: undefined });
  assert.deepEqual(parseManifest('https:\n  hsts: true\n').https.hsts, { maxAgeMs: 365 * 86_400_000, includeSubdomains: false, preload: false });
  assert.equal(parseManifest('https:\n  hsts: false\n').https.hsts, undefined);
  assert.equal(hstsHeader(parseManifest('https:\n  hsts: true\n').https.hsts), 'max-age=31536000');
  assert.equal(hstsHeader(parseManifest('https:\n  hsts: { max_age: 10m }\n').https.hsts), 'max-age=600');
  assert.equal(hstsHeader(undefined), null);
});

test('a bad https: value names the key and what to write', () => {
  assert.deepEqual(issues('https:\n  hsts: yes\n').map((i) => [i.path, i.fix]), [['https.hsts', 'write `hsts: true`']]);
  assert.match(issues('https:\n  hsts: 3\n')[0].message, /expected true, false or a mapping with `max_age:`, found the number 3/);
  assert.deepEqual(issues('https:\n  redirect: "no"\n').map((i) => i.path), ['https.redirect']);
  assert.deepEqual(issues('https:\n  hsts:\n    max_age: 3\n').map((i) => i.path), ['https.hsts.max_age']);
  assert.deepEqual(issues('https:\n  hsts:\n    max_age: 1000d\n').map((i) => i.path), ['https.hsts.max_age']);
  assert.match(issues('https:\n  hsts:\n    maxage: 1d\n')[0].message, /max_age/);
});

test('preload needs include_subdomains and a year, as the preload list does', () => {
  const [sub] = issues('https:\n  hsts: { preload: true }\n');
  assert.equal(sub.path, 'https.hsts.include_subdomains');
  assert.match(sub.fix!, /include_subdomains: true/);
  const [age] = issues('https:\n  hsts: { preload: true, include_subdomains: true, max_age: 30d }\n');
  assert.equal(age.path, 'https.hsts.max_age');
  assert.equal(hstsHeader(parseManifest('https:\n  hsts: { preload: true, include_subdomains: true }\n').https.hsts), 'max-age=31536000; includeSubDomains; preload');
});
