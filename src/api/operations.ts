import { OWN_CERT_LIMITS } from '../certs/own-certificate.ts';
import { MAX_REPLICAS } from '../deploy/formation.ts';
import { PASSWORD_MAX, USERNAME_MAX } from '../registry/credentials.ts';
import type { Operation } from './input-spec.ts';

/** The longest env var value accepted (characters). */
export const MAX_ENV_VALUE = 64 * 1024;
const MAX_ENV_NAME = 256;
const MAX_RUN_TIMEOUT_S = 24 * 60 * 60;

/**
 * Every endpoint of the control API and what it accepts (docs/api.md). Route handlers register against
 * these entries, and the server checks each request's query string and JSON body against them before a
 * handler runs, so every endpoint refuses unknown fields and bad values the same way.
 */
export const operations = {
  info: { method: 'GET', path: '/v1/info', summary: 'the server: version, driver, addresses' },
  shutdown: {
    method: 'POST',
    path: '/v1/system/shutdown',
    summary: 'stop the daemon',
    body: { stopApps: { type: 'boolean', example: true, doc: 'stop the proxy and every app instance too' } },
  },
  listApps: { method: 'GET', path: '/v1/apps', summary: 'every app' },
  createApp: {
    method: 'POST',
    path: '/v1/apps',
    summary: 'create an empty app',
    body: { name: { type: 'string', required: true, maxLength: 64, example: 'hello', doc: 'the app name (it becomes a hostname)' } },
  },
  getApp: { method: 'GET', path: '/v1/apps/:app', summary: 'one app' },
  destroyApp: { method: 'DELETE', path: '/v1/apps/:app', summary: 'stop and remove an app and everything it has' },
  deploy: {
    method: 'POST',
    path: '/v1/apps/:app/deploys',
    summary: 'upload a folder (gzip-compressed tar) and deploy it',
    archive: true,
    query: { wait: { type: 'flag', doc: 'queue behind a running deploy instead of 409' } },
  },
  deployImage: {
    method: 'POST',
    path: '/v1/apps/:app/deploys/image',
    summary: 'deploy a prebuilt image from a registry (no build), with the app\'s berth.yaml if it has one',
    query: { wait: { type: 'flag', doc: 'queue behind a running deploy instead of 409' } },
    body: {
      image: { type: 'string', required: true, minLength: 1, maxLength: 512, example: 'ghcr.io/acme/web:1.4', doc: 'the image; it takes the place of `image:` in the berth.yaml sent' },
      manifest: { type: 'string', maxLength: 64 * 1024, example: 'processes:\n  web:\n    port: 8080\n', doc: 'the text of the app\'s berth.yaml' },
      description: { type: 'string', maxLength: 200, example: 'deploy', doc: 'the release\'s description (default: the image)' },
    },
  },
  listDeployments: { method: 'GET', path: '/v1/apps/:app/deployments', summary: 'the app\'s deployments, newest first' },
  appEvents: {
    method: 'GET',
    path: '/v1/apps/:app/events',
    summary: 'the app\'s recent events, oldest first',
    query: { limit: { type: 'integer', min: 1, max: 1000, default: 100, example: 100, doc: 'how many events' } },
  },
  getDeployment: { method: 'GET', path: '/v1/deployments/:id', summary: 'one deployment' },
  deploymentEvents: {
    method: 'GET',
    path: '/v1/deployments/:id/events',
    summary: 'the deployment\'s events as a stream, until it ends',
    query: { after: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, example: 0, doc: 'only events with a greater seq' } },
  },
  listReleases: { method: 'GET', path: '/v1/apps/:app/releases', summary: 'the app\'s releases, newest first' },
  rollback: {
    method: 'POST',
    path: '/v1/apps/:app/rollback',
    summary: 'serve an earlier release again',
    body: { release: { type: 'string', minLength: 1, maxLength: 64, example: 'v3', doc: 'a release name (v3) or id; default the previous ready release' } },
  },
  getEnv: {
    method: 'GET',
    path: '/v1/apps/:app/env',
    summary: 'the app\'s env var names (values with reveal=1)',
    query: { reveal: { type: 'flag', doc: 'include the values' } },
  },
  patchEnv: {
    method: 'PATCH',
    path: '/v1/apps/:app/env',
    summary: 'set and unset env vars, then roll out a release with them',
    body: {
      set: {
        type: 'map',
        keyMaxLength: MAX_ENV_NAME,
        values: { type: 'string', maxLength: MAX_ENV_VALUE, example: 'value' },
        maxEntries: 1000,
        example: { API_KEY: 'value' },
        doc: 'NAME: "value"',
      },
      unset: { type: 'list', items: { type: 'string', maxLength: MAX_ENV_NAME, example: 'OLD_NAME' }, maxItems: 1000, example: ['OLD_NAME'], doc: 'names to remove' },
    },
  },
  logs: {
    method: 'GET',
    path: '/v1/apps/:app/logs',
    summary: 'the app\'s output, merged by time',
    query: {
      tail: { type: 'integer', min: 0, max: 10_000, default: 100, example: 100, doc: 'the last N lines' },
      since: { type: 'string', minLength: 1, maxLength: 64, example: '10m', doc: 'an ISO time or a duration back from now' },
      process: { type: 'string', minLength: 1, maxLength: 64, example: 'web', doc: 'only this process' },
      follow: { type: 'flag', doc: 'keep streaming new lines' },
    },
  },
  scale: {
    method: 'POST',
    path: '/v1/apps/:app/scale',
    summary: 'set replica counts (or go back to berth.yaml\'s)',
    body: {
      processes: {
        type: 'map',
        keyMaxLength: 64,
        values: { type: 'integer', min: 0, max: MAX_REPLICAS, example: 2 },
        maxEntries: 50,
        example: { web: 2 },
        doc: 'process name: replicas',
      },
      reset: { type: 'boolean', example: true, doc: 'forget the counts set with scale' },
    },
  },
  run: {
    method: 'POST',
    path: '/v1/apps/:app/run',
    summary: 'run a command once in a fresh instance of the current release',
    body: {
      command: {
        type: 'string',
        required: true,
        minLength: 1,
        maxLength: 8192,
        pattern: '^[^\\u0000]*$',
        patternMessage: 'must not contain NUL characters',
        example: 'node scripts/seed.js',
      },
      timeoutSeconds: { type: 'number', min: 1, max: MAX_RUN_TIMEOUT_S, example: 600, doc: 'stop it after this long (default 1800)' },
    },
  },
  listRegistries: { method: 'GET', path: '/v1/registries', summary: 'the registries berth has a login for (hosts and users, never passwords)' },
  loginRegistry: {
    method: 'PUT',
    path: '/v1/registries/:host',
    summary: 'log in to an image registry: the credentials are tried on the registry, then stored sealed',
    body: {
      username: { type: 'string', required: true, minLength: 1, maxLength: USERNAME_MAX, example: 'deploy-bot', doc: 'the registry user' },
      password: { type: 'string', required: true, minLength: 1, maxLength: PASSWORD_MAX, example: 'an access token', doc: 'its password or access token; never shown again' },
    },
  },
  logoutRegistry: { method: 'DELETE', path: '/v1/registries/:host', summary: 'forget the login for a registry' },
  listCerts: { method: 'GET', path: '/v1/certs', summary: 'the TLS certificates berth serves, ACME\'s and your own (never a key)' },
  addCert: {
    method: 'POST',
    path: '/v1/certs',
    summary: 'add your own certificate for a domain: checked, then stored with the key sealed; it replaces the domain\'s certificate, ACME\'s too',
    bodyLimit: 256 * 1024,
    body: {
      domain: { type: 'string', required: true, minLength: 1, maxLength: 253, example: 'shop.example.com', doc: 'the hostname it is for; `*.example.com` for a wildcard' },
      cert: {
        type: 'string',
        required: true,
        minLength: 1,
        maxLength: OWN_CERT_LIMITS.chainBytes,
        example: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n',
        doc: `PEM: the certificate, then the intermediates that issued it, in order (at most ${OWN_CERT_LIMITS.chainCertificates} certificates)`,
      },
      key: {
        type: 'string',
        required: true,
        minLength: 1,
        maxLength: OWN_CERT_LIMITS.keyBytes,
        example: '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n',
        doc: 'PEM: its private key, unencrypted; never shown again',
      },
    },
  },
  getCert: { method: 'GET', path: '/v1/certs/:domain', summary: 'one certificate, with its chain (never its key)' },
  removeCert: { method: 'DELETE', path: '/v1/certs/:domain', summary: 'delete a domain\'s certificate (an app listing the domain gets one from ACME again)' },
  renewCert: { method: 'POST', path: '/v1/certs/:domain/renew', summary: 'renew an ACME certificate now' },
  doctor: { method: 'GET', path: '/v1/doctor', summary: 'which runtime and why, versions, the proxy, disk space' },
  openapi: { method: 'GET', path: '/v1/openapi.json', summary: 'this API as an OpenAPI 3.1 document (docs/openapi.json)' },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;
