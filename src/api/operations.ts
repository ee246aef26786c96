import { OWN_CERT_LIMITS } from '../certs/own-certificate.ts';
import { MAX_REPLICAS } from '../deploy/formation.ts';
import { MAX_ACCESS_PATH_PREFIX, MAX_ACCESS_TAIL, MAX_GREP_LENGTH } from '../model/wire-logs.ts';
import { PASSWORD_MAX, USERNAME_MAX } from '../registry/credentials.ts';
import { DEFAULT_EVENTS, MAX_EVENT_TYPES } from '../notify/events.ts';
import { SECRET_MAX, SECRET_MIN } from '../notify/notifiers.ts';
import { URL_MAX_LENGTH } from '../notify/target.ts';
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
    query: {
      wait: { type: 'flag', doc: 'queue behind a running deploy instead of 409' },
      strategy: { type: 'string', minLength: 1, maxLength: 16, example: 'canary', doc: 'blue-green, rolling or canary for this deploy, instead of berth.yaml\'s `deploy.strategy`' },
      skipChecks: { type: 'flag', doc: 'skip berth.yaml\'s `checks:` (recorded in the deployment\'s events and the audit)' },
    },
  },
  deployImage: {
    method: 'POST',
    path: '/v1/apps/:app/deploys/image',
    summary: 'deploy a prebuilt image from a registry (no build), with the app\'s berth.yaml if it has one',
    query: {
      wait: { type: 'flag', doc: 'queue behind a running deploy instead of 409' },
      strategy: { type: 'string', minLength: 1, maxLength: 16, example: 'canary', doc: 'blue-green, rolling or canary for this deploy, instead of berth.yaml\'s `deploy.strategy`' },
      skipChecks: { type: 'flag', doc: 'skip berth.yaml\'s `checks:` (recorded in the deployment\'s events and the audit)' },
    },
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
  listEvents: {
    method: 'GET',
    path: '/v1/events',
    summary: 'the event log, of every app or one, oldest first; follow=1 streams new events',
    query: {
      app: { type: 'string', minLength: 1, maxLength: 64, example: 'shop', doc: 'only this app\'s events' },
      since: { type: 'string', minLength: 1, maxLength: 64, example: '7d', doc: 'an ISO time or a duration back from now' },
      after: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, example: 0, doc: 'only events with a greater seq, the first `limit` of them (without it: the latest `limit`)' },
      type: { type: 'string', minLength: 1, maxLength: 1024, example: 'deploy.failed,instance.*', doc: 'only these types or families, comma-separated' },
      limit: { type: 'integer', min: 1, max: 1000, default: 100, example: 100, doc: 'how many events (with follow=1: how many at once before the live ones)' },
      follow: { type: 'flag', doc: 'stream the events, then new ones as they are recorded' },
    },
  },
  audit: {
    method: 'GET',
    path: '/v1/audit',
    summary: 'the audit report of a period as GitHub-flavoured Markdown: summary, timeline, policy violations, checks skipped or failed',
    query: {
      app: { type: 'string', minLength: 1, maxLength: 64, example: 'shop', doc: 'only this app (default: every app)' },
      since: { type: 'string', minLength: 1, maxLength: 64, example: '7d', doc: 'the period\'s start: an ISO time or a duration back from now (default 7d)' },
    },
  },
  getDeployment: { method: 'GET', path: '/v1/deployments/:id', summary: 'one deployment' },
  deploymentEvents: {
    method: 'GET',
    path: '/v1/deployments/:id/events',
    summary: 'the deployment\'s events as a stream, until it ends',
    query: { after: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, example: 0, doc: 'only events with a greater seq' } },
  },
  listReleases: { method: 'GET', path: '/v1/apps/:app/releases', summary: 'the app\'s releases, newest first' },
  appHealth: {
    method: 'GET',
    path: '/v1/apps/:app/health',
    summary: 'the health of each serving instance of the current release, with its latest checks',
    query: { limit: { type: 'integer', min: 1, max: 100, default: 10, example: 10, doc: 'how many checks per instance, newest first (berth keeps 100)' } },
  },
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
      grep: { type: 'string', minLength: 1, maxLength: MAX_GREP_LENGTH, example: 'error', doc: 'only lines holding this text (a plain substring; case-insensitive unless it has an upper-case letter)' },
      follow: { type: 'flag', doc: 'keep streaming new lines' },
    },
  },
  accessLog: {
    method: 'GET',
    path: '/v1/apps/:app/access-log',
    summary: 'the requests the proxy answered for the app (the access log), oldest first',
    query: {
      tail: { type: 'integer', min: 0, max: MAX_ACCESS_TAIL, default: 100, example: 100, doc: 'the last N requests' },
      since: { type: 'string', minLength: 1, maxLength: 64, example: '10m', doc: 'an ISO time or a duration back from now' },
      status: { type: 'string', minLength: 1, maxLength: 16, example: '5xx', doc: 'a status class (1xx to 5xx) or one code (404)' },
      path: { type: 'string', minLength: 1, maxLength: MAX_ACCESS_PATH_PREFIX, pattern: '^/', patternMessage: 'a path prefix starts with /', example: '/api', doc: 'only paths starting with this' },
      follow: { type: 'flag', doc: 'keep streaming new requests' },
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
  getChaos: { method: 'GET', path: '/v1/apps/:app/chaos', summary: 'the outage simulated on the app\'s traffic, if any' },
  setChaos: {
    method: 'PUT',
    path: '/v1/apps/:app/chaos',
    summary: 'simulate an outage on the app\'s traffic in the proxy (slow, or a share of requests failed); replaces the one there is',
    body: {
      mode: { type: 'string', required: true, minLength: 1, maxLength: 16, example: 'error', doc: 'slow or error (CHAOS_MODE_INVALID otherwise)' },
      latencyMs: { type: 'integer', min: 0, max: 1_000_000_000, example: 2000, doc: 'slow: each request waits this long before it is forwarded, 1 to 60000 (CHAOS_LATENCY_INVALID)' },
      status: { type: 'integer', min: 0, max: 999, example: 503, doc: 'error: the status answered, 429 or 500..599 (CHAOS_STATUS_INVALID)' },
      ratio: { type: 'number', min: 0, max: 1_000_000, example: 0.3, doc: 'error: the share of requests failed, 0 < ratio <= 1 (CHAOS_RATIO_INVALID)' },
      release: { type: 'string', minLength: 1, maxLength: 16, example: 'v3', doc: 'only this release\'s instances (CHAOS_RELEASE_UNKNOWN); default the whole app' },
      forMs: { type: 'integer', min: 0, max: 1_000_000_000_000, example: 600000, doc: 'it turns itself off after this long, 1000 to 86400000 (CHAOS_DURATION_INVALID); default 10 minutes' },
    },
  },
  stopChaos: { method: 'DELETE', path: '/v1/apps/:app/chaos', summary: 'turn the app\'s simulated outage off' },
  promote: {
    method: 'POST',
    path: '/v1/apps/:app/promote',
    summary: 'promote the app\'s running canary now, skipping its remaining steps (the promote policies still judge; 409 CANARY_PROMOTE_DENIED keeps it running, 409 NO_CANARY_RUNNING without one)',
    body: { by: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7e]+$', patternMessage: 'printable ASCII only', example: 'alice (cli)', doc: 'who asks, for the events and the audit; default `the API`' } },
  },
  abort: {
    method: 'POST',
    path: '/v1/apps/:app/abort',
    summary: 'abort the app\'s running canary now: all traffic back on the stable release, the canary stopped, its deployment failed (409 NO_CANARY_RUNNING without one)',
    body: { by: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7e]+$', patternMessage: 'printable ASCII only', example: 'alice (cli)', doc: 'who asks, for the events and the audit; default `the API`' } },
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
  listNotifiers: { method: 'GET', path: '/v1/notifiers', summary: 'where berth posts events: each notifier, its URL as scheme and host only, never its secret' },
  addNotifier: {
    method: 'POST',
    path: '/v1/notifiers',
    summary: 'add a notifier: a Slack-compatible incoming webhook or a generic webhook signed with HMAC-SHA256; the URL and secret are stored sealed',
    body: {
      name: { type: 'string', required: true, minLength: 1, maxLength: 64, example: 'ops-slack', doc: 'its name: 1-40 lowercase letters, digits and dashes, starting with a letter' },
      kind: { type: 'string', required: true, maxLength: 16, pattern: '^(slack|webhook)$', patternMessage: 'must be slack or webhook', example: 'slack', doc: 'slack: `{ text }`; webhook: the event as JSON, signed' },
      url: { type: 'string', required: true, minLength: 1, maxLength: URL_MAX_LENGTH, example: 'https://hooks.slack.com/services/T0123/B0456/abcdef789', doc: 'the http:// or https:// URL to post to; never shown again' },
      events: {
        type: 'list',
        items: { type: 'string', minLength: 1, maxLength: 64, example: 'deploy.failed' },
        maxItems: MAX_EVENT_TYPES,
        example: ['deploy.failed', 'instance.crashloop'],
        doc: `the event types to post (default: ${DEFAULT_EVENTS.join(', ')})`,
      },
      secret: { type: 'string', minLength: 1, maxLength: SECRET_MAX, example: 'whsec_0123456789abcdef', doc: `a webhook's signing secret (${SECRET_MIN}-${SECRET_MAX} printable characters); without it berth generates one and answers it once` },
    },
  },
  removeNotifier: { method: 'DELETE', path: '/v1/notifiers/:name', summary: 'delete a notifier with its queue and delivery history' },
  testNotifier: { method: 'POST', path: '/v1/notifiers/:name/test', summary: 'post a test message to the notifier now (outside its queue, not retried) and answer what the receiver said' },
  listDeliveries: {
    method: 'GET',
    path: '/v1/deliveries',
    summary: 'the notifications berth posted or is posting, newest first: time, event, attempts, state, last error',
    query: {
      notifier: { type: 'string', minLength: 1, maxLength: 64, example: 'ops-slack', doc: 'only this notifier\'s' },
      limit: { type: 'integer', min: 1, max: 1000, default: 50, example: 50, doc: 'how many deliveries' },
    },
  },
  doctor: { method: 'GET', path: '/v1/doctor', summary: 'which runtime and why, versions, the proxy, disk space' },
  openapi: { method: 'GET', path: '/v1/openapi.json', summary: 'this API as an OpenAPI 3.1 document (docs/openapi.json)' },
  metrics: { method: 'GET', path: '/v1/metrics', summary: 'every metric for Prometheus (text exposition format 0.0.4); scrape it with the bearer token (`authorization: credentials_file`)' },
  appMetrics: {
    method: 'GET',
    path: '/v1/apps/:app/metrics',
    summary: 'the app\'s traffic over a window: requests/s, error rate, p50/p95/p99, per release; and its instances\' usage',
    query: { window: { type: 'string', minLength: 1, maxLength: 16, example: '5m', doc: '1m, 5m or 1h (default 1m)' } },
  },
  listPolicies: {
    method: 'GET',
    path: '/v1/policies',
    summary: 'the policy gates: the server\'s (DATA/policies/*.yaml) and, with `app`, those of its serving release\'s berth.yaml; with the problems of any that does not load',
    query: { app: { type: 'string', minLength: 1, maxLength: 64, example: 'shop', doc: 'also this app\'s policies' } },
  },
  checkPolicies: {
    method: 'GET',
    path: '/v1/apps/:app/policy-check',
    summary: 'a dry run: the deploy moment\'s policies judged now against the host and the app\'s serving release (no event is written)',
  },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;
