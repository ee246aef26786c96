import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { defaultDataDir, resolveServerConfig } from './config.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MB = 1024 ** 2;
const GB = 1024 ** 3;

test('sizes are read as in berth.yaml: 512m, 1.5gb, 64KB', () => {
  const config = resolveServerConfig({ maxUpload: '512m', buildMemory: '1.5gb' }, {});
  assert.equal(config.maxUploadBytes, 512 * MB);
  assert.equal(config.build.memoryBytes, 1.5 * GB);
  assert.equal(resolveServerConfig({}, { BERTH_MAX_UPLOAD: '64KB', BERTH_BUILD_MEMORY: '256mb' }).maxUploadBytes, 64 * 1024);
  assert.equal(resolveServerConfig({}, {}).maxUploadBytes, 200 * MB);
});

test('a bad size names the flag and what to write instead', () => {
  const issues = (flags: Parameters<typeof resolveServerConfig>[0]): Issue[] => {
    try {
      resolveServerConfig(flags, {});
    } catch (error) {
      assert.ok(isBerthError(error) && error.code === 'CONFIG_INVALID', String(error));
      return error.details?.issues as Issue[];
    }
    return assert.fail('accepted');
  };
  assert.deepEqual(issues({ maxUpload: 'lots' }), [{ path: '--max-upload', message: '"lots" is not a size of at least 1kb', fix: 'for example --max-upload 200mb' }]);
  assert.deepEqual(issues({ maxUpload: '512' }).map((issue) => issue.path), ['--max-upload']);
  assert.deepEqual(issues({ maxUpload: '0.5kb', buildMemory: '32m' }), [
    { path: '--max-upload', message: '"0.5kb" is not a size of at least 1kb', fix: 'for example --max-upload 200mb' },
    { path: '--build-memory', message: '"32m" is not a size of at least 64mb', fix: 'for example --build-memory 1gb' },
  ]);
});

test('a bad value from the environment names the variable; the message carries each fix', () => {
  try {
    resolveServerConfig({ http: '0.0.0.0:8080' }, { BERTH_API: 'bad', BERTH_HTTP: 'also-bad' });
    assert.fail('accepted');
  } catch (error) {
    assert.ok(isBerthError(error) && error.code === 'CONFIG_INVALID', String(error));
    assert.deepEqual(error.details?.issues, [{ path: 'BERTH_API', message: '"bad" is not HOST:PORT', fix: 'for example BERTH_API=127.0.0.1:7171' }]);
    assert.match(error.message, /BERTH_API: "bad" is not HOST:PORT \(fix: /);
    assert.match(error.hint!, /berth server --help/);
  }
});

test('a DOCKER_HOST that is not a Unix socket is noted, not silently replaced', () => {
  assert.equal(resolveServerConfig({}, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).dockerSocket, '/run/user/1000/docker.sock');
  const remote = resolveServerConfig({}, { DOCKER_HOST: 'tcp://10.0.0.5:2376' });
  assert.equal(remote.dockerSocket, '/var/run/docker.sock');
  assert.equal(remote.dockerHostIgnored, 'tcp://10.0.0.5:2376');
});

test('an upload may unpack to twice --max-upload (at least 256mb) and hold 20,000 entries', () => {
  const defaults = resolveServerConfig({}, {});
  assert.equal(defaults.maxUnpackedBytes, 400 * MB);
  assert.equal(defaults.maxUploadEntries, 20_000);
  assert.equal(resolveServerConfig({ maxUpload: '1gb' }, {}).maxUnpackedBytes, 2 * GB);
  assert.equal(resolveServerConfig({ maxUpload: '64kb' }, {}).maxUnpackedBytes, 256 * MB);
});

test('the default data dir: BERTH_DATA, then XDG_DATA_HOME, then /var/lib/berth for root (its apps\' users pass through it), else ~/.local/share', () => {
  assert.equal(defaultDataDir({ BERTH_DATA: '/srv/b' }, 0), '/srv/b');
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x' }, 0), '/x/berth');
  assert.equal(defaultDataDir({}, 0), '/var/lib/berth');
  assert.equal(defaultDataDir({}, 1000), join(homedir(), '.local', 'share', 'berth'));
});
