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
  assert.deepEqual({ ...serviceEnv(manifest) }, {
    REDIS_URL: 'redis://cache:6379',
    DATABASE_URL: 'postgres://app:p%40ss%20w0rd@db:5432/shop',
    SEARCH_URL: 'http://search:9200/v1',
  });
  assert.deepEqual(serviceSecrets(manifest), ['p@ss w0rd', 'p%40ss%20w0rd']);
});

test('no services, no env', () => {
  assert.deepEqual({ ...serviceEnv(parseManifest('')) }, {});
});

test('a url_env named after an Object.prototype key is a variable like any other', () => {
  const manifest = parseManifest(`
services:
  cache:
    image: redis:7
    url_env: __proto__
  db:
    image: postgres:16
    url_env: toString
`);
  const env = serviceEnv(manifest);
  assert.deepEqual(Object.entries(env), [['__proto__', 'redis://cache:6379'], ['toString', 'postgres://postgres@db:5432/postgres']]);
});
