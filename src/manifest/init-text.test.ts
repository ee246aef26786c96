import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { initManifestText, parseManifest } from './load.ts';

const TOP_LEVEL_KEYS = ['name', 'build', 'dockerfile', 'static', 'image', 'update', 'release', 'processes', 'services', 'health', 'deploy', 'restart', 'domains', 'env'];
/** `static` replaces web's command and `image` the build (`update` goes with `image`), so they are uncommented on their own. */
const WITH_WEB_COMMAND = TOP_LEVEL_KEYS.filter((key) => !['static', 'image', 'update'].includes(key));

const inputs = [
  { name: 'hello', hasPackageJson: true, startCommand: 'node server.js' },
  { name: 'shop', hasPackageJson: true },
  { name: 'static-site', hasPackageJson: false },
];

for (const input of inputs) {
  test(`init file for ${JSON.stringify(input)} parses to the defaults, with only the name set`, () => {
    const text = initManifestText(input);
    assert.deepEqual(parseManifest(text), { ...parseManifest(''), name: input.name });
  });
}

test('init file: every top-level key is there, under a comment saying what it is', () => {
  const lines = initManifestText(inputs[0]).split('\n');
  for (const key of TOP_LEVEL_KEYS) {
    const at = lines.findIndex((line) => line === `${key}:` || line.startsWith(`${key}: `) || line === `# ${key}:` || line.startsWith(`# ${key}: `));
    assert.ok(at > 0, `no line for ${key}`);
    assert.match(lines[at - 1], /^# [A-Z`].+/, `no comment above ${key}`);
  }
});

test('init file: the commented lines are the defaults, so uncommenting a section changes nothing', () => {
  const text = initManifestText(inputs[0]);
  const defaults = parseManifest(text);
  for (const key of ['health', 'deploy', 'restart']) {
    const uncommented = uncommentSection(text, key);
    assert.notEqual(uncommented, text);
    assert.deepEqual(parseManifest(uncommented), defaults, key);
  }
});

test('init file: the examples in it are valid once uncommented', () => {
  const input = inputs[0];
  let text = initManifestText(input);
  for (const key of WITH_WEB_COMMAND) text = uncommentSection(text, key);
  const manifest = parseManifest(text);
  assert.deepEqual({ ...manifest.processes }, {
    web: {
      command: 'node server.js',
      replicas: 1,
      port: 3000,
      resources: { memoryBytes: 512 * 1024 ** 2, cpus: 1 },
      restart: manifest.restart,
      dependsOn: ['redis'],
      health: undefined,
      readOnly: false,
    },
  });
  assert.equal(manifest.build, 'npm run build');
  assert.deepEqual(manifest.release, { command: 'node migrate.js', timeoutMs: 300_000 });
  assert.deepEqual(Object.keys(manifest.services), ['redis']);
  assert.equal(manifest.services.redis.urlEnv, 'REDIS_URL');
  assert.ok(manifest.dockerfile && manifest.domains.length > 0 && Object.keys(manifest.env).length > 0);
});

test('init file: uncommenting `static` alone serves the folder as web', () => {
  const manifest = parseManifest(uncommentSection(initManifestText(inputs[1]), 'static'));
  assert.equal(manifest.static, 'public');
  assert.deepEqual(Object.keys(manifest.processes), ['web']);
  assert.equal(manifest.processes.web.command, undefined);
});

test('init file: uncommenting `image` and `update` runs a prebuilt image with auto-update', () => {
  const manifest = parseManifest(uncommentSection(uncommentSection(initManifestText(inputs[0]), 'image'), 'update'));
  assert.equal(manifest.image, 'ghcr.io/acme/web:1.4');
  assert.deepEqual(manifest.update, { intervalMs: 300_000, settleMs: 120_000 });
  assert.equal(manifest.build, undefined);
});

test('init file: it shows the Docker keys, kept short', () => {
  const text = initManifestText(inputs[0]);
  for (const line of ['# static: public', '# image: ghcr.io/acme/web:1.4', '# update:', '#   interval: 5m', '# release:', '#     resources:', '#     depends_on:', '# services:', '#     image: redis:7']) {
    assert.ok(text.split('\n').some((l) => l.startsWith(line)), `no line starting with ${line}`);
  }
  assert.ok(text.split('\n').length < 120, 'the init file stays short');
});

test('init file: it names the JSON Schema for editors and what web runs by default', () => {
  const text = initManifestText(inputs[0]);
  assert.match(text, /^# yaml-language-server: \$schema=\.berth\/berth\.schema\.json\n/);
  assert.match(text, /web runs `node server.js` \(package.json "start"\)/);
  assert.match(initManifestText(inputs[2]), /Unset, nothing is built/);
});

test('init file: an invalid name is refused', () => {
  assert.throws(() => initManifestText({ name: 'Bad_Name', hasPackageJson: true }), (error: Error) => isBerthError(error) && error.code === 'APP_NAME_INVALID');
});

/** Removes the leading "# " from a commented-out top-level section, as a user would. */
function uncommentSection(text: string, key: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `# ${key}:` || line.startsWith(`# ${key}: `));
  if (start === -1) return text;
  for (let i = start; i < lines.length && lines[i].startsWith('# ') && (i === start || lines[i].startsWith('#  ')); i++) {
    lines[i] = lines[i].slice(2);
  }
  return lines.join('\n');
}
