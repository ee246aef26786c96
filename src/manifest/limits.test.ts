import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { MANIFEST_LIMITS } from './limits.ts';
import { loadManifest, MAX_LISTED_ISSUES, parseManifest } from './load.ts';
import { readManifestFile } from './manifest-file.ts';

/** The issues of text that must be MANIFEST_INVALID. */
function issuesOf(text: string): Issue[] {
  try {
    parseManifest(text);
  } catch (error) {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', `not MANIFEST_INVALID: ${error}`);
    return error.details!.issues as Issue[];
  }
  return assert.fail('the text was accepted');
}

/** `env: {K0: v, K1: v, ...}` on one line. */
function envKeys(count: number): string {
  return `env: {${Array.from({ length: count }, (_, i) => `K${i}: v`).join(', ')}}\n`;
}

test('text over the size limit is refused before it is parsed, with the limit and the fix', () => {
  const text = `# ${'x'.repeat(MANIFEST_LIMITS.maxBytes)}\n`;
  assert.deepEqual(issuesOf(text), [
    {
      path: '',
      message: `the file is ${MANIFEST_LIMITS.maxBytes + 3} bytes, more than the 65536 bytes (64 KB) berth reads`,
      fix: 'keep berth.yaml to the settings berth reads: set many or long variables with `berth env set`, and keep other data in files of the app',
    },
  ]);
  // Bytes, not characters: 40,000 two-byte characters are 80,000 bytes.
  assert.match(issuesOf(`env:\n  A: "${'é'.repeat(40_000)}"\n`)[0].message, /more than the 65536 bytes/);
});

test('more lines than the limit are refused before parsing', () => {
  const text = '\n'.repeat(MANIFEST_LIMITS.maxLines) + 'name: x\n';
  assert.deepEqual(issuesOf(text).map((i) => i.message), [`the file has more than ${MANIFEST_LIMITS.maxLines} lines, the most berth reads`]);
  assert.equal(parseManifest('\n'.repeat(MANIFEST_LIMITS.maxLines - 2) + 'name: x\n').name, 'x', 'the last line allowed');
});

test('more keys than the limit are refused, counting the keys that aliases repeat', () => {
  const limit = MANIFEST_LIMITS.maxKeys;
  // One key for `env`, the rest under it: exactly the limit is fine.
  assert.equal(Object.keys(parseManifest(envKeys(limit - 1)).env).length, limit - 1);
  const issues = issuesOf(envKeys(limit));
  assert.equal(issues.length, 1);
  assert.match(issues[0].message, new RegExp(`^the file has more than ${limit} keys \\(counting those that aliases repeat\\)`));
  assert.match(issues[0].fix!, /berth env set/);
  // 40 keys repeated 60 times through an alias: few lines, too many keys.
  const anchor = `x: &m {${Array.from({ length: 40 }, (_, i) => `k${i}: 1`).join(', ')}}\n`;
  const repeats = `y: [${Array.from({ length: 60 }, () => '*m').join(', ')}]\n`;
  assert.match(issuesOf(anchor + repeats)[0].message, /more than 2000 keys/);
});

test('nesting deeper than the limit is refused where it happens; thousands of `[` do not exhaust the stack', () => {
  const depth = MANIFEST_LIMITS.maxDepth;
  const nested = (levels: number) => `env: ${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)}\n`;
  const [issue] = issuesOf(nested(depth + 2));
  assert.match(issue.message, new RegExp(`nested more than ${depth} levels deep here`));
  assert.equal(issue.path, `env${'[0]'.repeat(depth - 1)}`);
  // Within the limit it is only the wrong type.
  assert.match(issuesOf(nested(depth))[0].message, /expected a mapping of variable names/);
  const deepest = '['.repeat(30_000) + ']'.repeat(30_000);
  assert.match(issuesOf(deepest)[0].message, /nested more than 32 levels deep/);
});

test('a duplicate key among thousands is found, with the same message as before', () => {
  const lines = Array.from({ length: 1_500 }, (_, i) => `  K${i}: v\n`);
  lines.push('  K7: again\n');
  const issues = issuesOf(`env:\n${lines.join('')}`);
  assert.deepEqual(issues, [
    { path: 'env.K7', message: 'line 1502, column 3: duplicate key `K7` (first at line 9); YAML keys must be unique within a mapping', fix: 'keep one `K7:` and delete the other' },
  ]);
  // Keys that YAML reads as different values but berth as the same name are duplicates too.
  const same = issuesOf('env:\n  1: a\n  "1": b\n').map((i) => i.message);
  assert.ok(same.includes('line 3, column 3: duplicate key `1` (first at line 2); YAML keys must be unique within a mapping'), same.join('\n'));
  // A mapping reached again through an alias reports its duplicates once.
  assert.equal(issuesOf('x: &m {a: 1, a: 2}\ny: [*m, *m, *m]\n').filter((i) => /duplicate/.test(i.message)).length, 1);
});

test('an alias key without its anchor is an issue, not an empty key', () => {
  assert.match(issuesOf('env:\n  *nope : v\n')[0].message, /^line 2, column 3: the alias `\*nope` has no anchor `&nope` before it/);
});

test(`at most ${MAX_LISTED_ISSUES} issues are listed, then a count of the rest`, () => {
  const text = `env:\n${Array.from({ length: 120 }, (_, i) => `  bad-${i}: v\n`).join('')}`;
  const issues = issuesOf(text);
  assert.equal(issues.length, MAX_LISTED_ISSUES + 1);
  assert.equal(issues.at(-1)!.message, `${120 - MAX_LISTED_ISSUES} more problems not listed`);
  assert.match(issues[0].message, /^line 2: `bad-0` is not a valid variable name/);
});

test('every name of Object.prototype, and __proto__, works as a key or gets an issue, never a crash', () => {
  const names = [...Object.getOwnPropertyNames(Object.prototype), '__proto__'];
  for (const name of names) {
    const texts = [
      `env:\n  ${name}: x\n`,
      `processes:\n  ${name}: node a.js\n`,
      `services:\n  ${name}: redis:7\n`,
      `services:\n  db:\n    image: redis:7\n    env:\n      ${name}: x\n    volumes:\n      ${name}: /data\n`,
      `${name}: 1\n`,
      `health:\n  ${name}: 1\n`,
      `processes:\n  web:\n    ${name}: 1\n`,
      `processes:\n  web: node a.js\n  worker:\n    command: node w.js\n    depends_on: [${name}]\n`,
    ];
    for (const text of texts) {
      let outcome: string;
      try {
        const manifest = parseManifest(text);
        outcome = 'valid';
        // A valid name is a key of its own, in a record without a prototype.
        const records = [manifest.env, manifest.processes, manifest.services, ...Object.values(manifest.services).flatMap((s) => [s.env, s.volumes])];
        for (const record of records) assert.equal(Object.getPrototypeOf(record), null, text);
        if (text.startsWith('env:')) assert.deepEqual(Object.keys(manifest.env), [name]);
      } catch (error) {
        assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', `${JSON.stringify(text)}: ${(error as Error).stack}`);
        outcome = error.message;
        assert.doesNotMatch(error.message, /native code|\[object Object\]|is not a function/, text);
      }
      // Lowercase names are valid process and service names; env takes any of them.
      if (text.startsWith('env:')) assert.equal(outcome, 'valid', text);
      if (name === 'constructor' && /^(processes|services):\n  constructor/.test(text)) assert.equal(outcome, 'valid', text);
    }
  }
});

test('readManifestFile refuses a file over the limit from its size, before reading it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-limits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'berth.yaml');
  // 600 MB of nothing, sparse on disk: read, it would take 600 MB of memory and more than a JS string holds.
  await writeFile(file, '# a comment\n');
  await truncate(file, 600 * 1024 ** 2);
  await assert.rejects(readManifestFile(dir, { shown: (name) => name }), (error: Error) => {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', String(error));
    assert.equal(error.message, `berth.yaml is not valid:\n  - (top level): the file is ${600 * 1024 ** 2} bytes, more than the 65536 bytes (64 KB) berth reads (fix: keep berth.yaml to the settings berth reads: set many or long variables with \`berth env set\`, and keep other data in files of the app)`);
    return true;
  });
  // The CLI's loadManifest reads through the same check, and names the file by its path.
  await assert.rejects(loadManifest(dir), (error: Error) => isBerthError(error) && error.message.startsWith(`${file} is not valid:`) && /64 KB/.test(error.message));
});

test('readManifestFile: a folder named berth.yaml is MANIFEST_INVALID, not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-limits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'berth.yaml'));
  await assert.rejects(readManifestFile(dir, { shown: (name) => name }), (error: Error) => isBerthError(error) && error.code === 'MANIFEST_INVALID' && error.message === 'berth.yaml is not valid:\n  - (top level): it is a folder (fix: make berth.yaml a file of YAML text)');
});
