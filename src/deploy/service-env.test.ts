import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../manifest/load.ts';
import { serviceEnv, serviceSecrets } from './service-env.ts';

test('connection URLs per image, from the service env, by service name on the private network', () => {
  const manifest = parseManifest(`
services:
  cache:
    image: redis:7-alpine
  db:
    image: postgres:16
    env:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: "p@ss w0rd"
      POSTGRES_DB: shop
  search:
    image: ghcr.io/acme/search:1
    port: 9200
    url_env: SEARCH_URL
    url: http://search:9200/v1
`);
  assert.deepEqual(serviceEnv(manifest), {
    REDIS_URL: 'redis://cache:6379',
    DATABASE_URL: 'postgres://app:p%40ss%20w0rd@db:5432/shop',
    SEARCH_URL: 'http://search:9200/v1',
  });
  assert.deepEqual(serviceSecrets(manifest), ['p@ss w0rd', 'p%40ss%20w0rd']);
});

test('no services, no env', () => {
  assert.deepEqual(serviceEnv(parseManifest('')), {});
});
