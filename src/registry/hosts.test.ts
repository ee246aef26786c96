import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, hostOnly, isLoopbackRegistry, registryHost } from './hosts.ts';

test('Docker Hub is asked at registry-1.docker.io; others where they are', () => {
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('ghcr.io'), 'ghcr.io');
  assert.equal(apiHost('127.0.0.1:5055'), '127.0.0.1:5055');
});

test('plain HTTP only for 127.0.0.0/8 and localhost, as the engine', () => {
  for (const domain of ['127.0.0.1:5055', '127.0.0.1', '127.255.1.2:80', 'localhost:5000', 'LOCALHOST']) assert.equal(isLoopbackRegistry(domain), true, domain);
  for (const domain of ['ghcr.io', '128.0.0.1:5000', '127.0.0.1.nip.io', '127.0.0.256:5000', '[::1]:5000', '10.0.0.1:5000', 'localhost.example.com', 'docker.io']) {
    assert.equal(isLoopbackRegistry(domain), false, domain);
  }
  assert.equal(hostOnly('[::1]:5000'), '[::1]');
  assert.equal(hostOnly('a.b:1'), 'a.b');
});

test('login hosts are stored in one spelling', () => {
  const same: [string, string][] = [
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['Docker.IO', 'docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['https://GHCR.io/', 'ghcr.io'],
    [' 127.0.0.1:5055 ', '127.0.0.1:5055'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['[::1]:5000', '[::1]:5000'],
  ];
  for (const [written, stored] of same) assert.equal(registryHost(written), stored, written);
  for (const bad of ['', '   ', 'exa_mple.com', 'host:port', 'a b', '-x.com', 'https://']) {
    assert.throws(() => registryHost(bad), { code: 'REGISTRY_HOST_INVALID' }, bad);
  }
});
