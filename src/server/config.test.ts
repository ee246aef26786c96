import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type Issue } from '../errors/catalogue.ts';
import { defaultDataDir, resolveServerConfig } from './config.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from '../../test/support/tls-certs.ts';

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

test('HTTPS: on at 0.0.0.0:8443 by default, `off` turns it off; ACME defaults to Let\'s Encrypt production', () => {
  const defaults = resolveServerConfig({}, {});
  assert.deepEqual(defaults.https, { host: '0.0.0.0', port: 8443 });
  assert.deepEqual(defaults.acme, { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', email: null, ca: null, resolver: null, challengePort: null });
  assert.equal(resolveServerConfig({ https: 'off' }, {}).https, null);
  assert.equal(resolveServerConfig({}, { BERTH_HTTPS: 'OFF' }).https, null);
  assert.deepEqual(resolveServerConfig({ https: '[::]:443' }, {}).https, { host: '::', port: 443 });
  assert.equal(resolveServerConfig({ acmeDirectory: 'staging' }, {}).acme.directoryUrl, 'https://acme-staging-v02.api.letsencrypt.org/directory');
  assert.equal(resolveServerConfig({}, { BERTH_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir' }).acme.directoryUrl, 'https://127.0.0.1:14000/dir');
  const set = resolveServerConfig({ acmeEmail: 'ops@example.com', acmeResolver: '127.0.0.1:8053', acmeChallengePort: '80' }, {}).acme;
  assert.deepEqual([set.email, set.resolver, set.challengePort], ['ops@example.com', { host: '127.0.0.1', port: 8053 }, 80]);
});

test('--acme-ca is read and must hold a certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    const pem = makeTestCa().certPem;
    writeFileSync(join(dir, 'ca.pem'), pem);
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    assert.equal(resolveServerConfig({ acmeCa: join(dir, 'ca.pem') }, {}).acme.ca, pem);
    assert.deepEqual(issuesOf({ acmeCa: join(dir, 'junk.pem') }), [{ path: '--acme-ca', message: `"${join(dir, 'junk.pem')}" holds no PEM certificate`, fix: 'for example --acme-ca /etc/berth/acme-ca.pem (a file with -----BEGIN CERTIFICATE-----)' }]);
    assert.match(issuesOf({ acmeCa: join(dir, 'missing.pem') })[0].message, /cannot be read \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each bad HTTPS or ACME setting names its flag (or variable) and the fix', () => {
  assert.deepEqual(issuesOf({ https: 'on' }), [{ path: '--https', message: '"on" is not HOST:PORT or off', fix: 'for example --https 0.0.0.0:443 (443 needs root or cap_net_bind_service; `off` serves plain HTTP only)' }]);
  assert.deepEqual(
    issuesOf({ acmeDirectory: 'http://ca.example/dir', acmeEmail: 'ops', acmeResolver: 'dns.example:53', acmeChallengePort: '0' }).map((i) => [i.path, i.message]),
    [
      ['--acme-directory', '"http://ca.example/dir" is not the https:// URL of an ACME directory'],
      ['--acme-email', '"ops" is not an email address'],
      ['--acme-resolver', '"dns.example:53" is not IP:PORT of a DNS server'],
      ['--acme-challenge-port', '"0" is not a port number (1-65535)'],
    ],
  );
  assert.deepEqual(issuesOf({}, { BERTH_ACME_CHALLENGE_PORT: '70000' }), [{ path: 'BERTH_ACME_CHALLENGE_PORT', message: '"70000" is not a port number (1-65535)', fix: 'for example BERTH_ACME_CHALLENGE_PORT=80 (the port the CA connects to, forwarded to berth\'s HTTP listener)' }]);
});

function issuesOf(flags: Parameters<typeof resolveServerConfig>[0], env: NodeJS.ProcessEnv = {}): Issue[] {
  try {
    resolveServerConfig(flags, env);
  } catch (error) {
    assert.ok(isBerthError(error) && error.code === 'CONFIG_INVALID', String(error));
    return error.details?.issues as Issue[];
  }
  return assert.fail('accepted');
}

test('the access log: 64mb files kept 14 days by default, set by flag or environment, off with a keep of 0', () => {
  assert.deepEqual(resolveServerConfig({}, {}).accessLog, { maxFileBytes: 64 * MB, keepDays: 14 });
  assert.deepEqual(resolveServerConfig({ accessLogMaxSize: '16mb', accessLogKeep: '36h' }, {}).accessLog, { maxFileBytes: 16 * MB, keepDays: 1.5 });
  assert.deepEqual(resolveServerConfig({}, { BERTH_ACCESS_LOG_MAX_SIZE: '1gb', BERTH_ACCESS_LOG_KEEP: '30d' }).accessLog, { maxFileBytes: GB, keepDays: 30 });
  assert.equal(resolveServerConfig({ accessLogKeep: '0' }, {}).accessLog, null);
  assert.deepEqual(issuesOf({ accessLogMaxSize: '10kb', accessLogKeep: 'forever' }).map((i) => [i.path, i.message]), [
    ['--access-log-max-size', '"10kb" is not a size of at least 1mb'],
    ['--access-log-keep', '"forever" is not a duration from 1h to 3650d'],
  ]);
  assert.deepEqual(issuesOf({}, { BERTH_ACCESS_LOG_KEEP: '5m' }).map((i) => i.fix), ['for example BERTH_ACCESS_LOG_KEEP=14d (rotated access logs older than this are deleted; 0 turns the access log off)']);
});
