/**
 * `services`: accessories (a database, a cache), containers on the app's private network that processes
 * reach by name, with defaults that follow the image (`redis:7` listens on 6379 and is handed to
 * processes as REDIS_URL). Building the URL itself is the deployer's job.
 */
import { s, type RuleProblem } from '../schema-dsl.ts';
import { snippet } from '../show.ts';
import { ENV_NAME, ENV_NAME_HINT, envValue, suggestEnvName } from './env.ts';
import { IMAGE_STRING, pinsDigest } from './image-reference.ts';
import { imageDefaults } from './images.ts';
import { serviceHealth, type ServiceHealthSpec } from './service-health.ts';
import { pinnedUpdate, serviceUpdate, type UpdateSpec } from './update.ts';

/** A service's `port` when unset: IMAGE_DEFAULTS in words, for the reference. */
const byImage = 'by image: redis 6379; postgres and postgis 5432; mysql and mariadb 3306; mongo 27017; memcached 11211; otherwise none';

const VOLUME_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const volumes = s.record({
  doc: 'Named volumes mounted into the service\'s container: the data in them outlives restarts and deploys.',
  keys: {
    name: 'volume name',
    placeholder: '<volume>',
    pattern: VOLUME_NAME,
    hint: '1 to 63 lowercase letters, digits, `_` and `-`, starting with a letter',
    suggest: (key) => key.trim().toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63),
  },
  value: s.string({
    doc: 'Where the volume is mounted in the container, as an absolute path.',
    type: 'mount path',
    example: '/data',
    pattern: /^\/\S+$/,
    patternHint: 'an absolute path in the container, such as `/data`, without spaces',
    suggest: (path) => `/${path.trim().replace(/^\.?\/*/, '')}`,
  }),
  default: {},
  example: { data: '/data' },
});

const serviceEnv = s.record({
  doc: 'Environment variables of the service\'s container, such as the options an image reads.',
  details:
    'The same rules as the top-level `env`, except that PORT and BERTH_* are allowed, since a service is not ' +
    'a berth process. Services do not get the top-level `env`.',
  keys: { name: 'variable name', placeholder: '<NAME>', pattern: ENV_NAME, hint: ENV_NAME_HINT, suggest: suggestEnvName },
  value: envValue,
  default: {},
  example: { REDIS_ARGS: '--maxmemory 256mb' },
});

const service = s.shorthand({
  doc: 'A service: a container from `image` that runs as long as the app, reachable only from the app\'s processes.',
  key: 'image',
  example: { image: 'redis:7-alpine', volumes: { data: '/data' } },
  required: 'a service needs an image',
  missingFix: (path) => `write ${snippet(path, 'redis:7-alpine')}, or a mapping with \`image:\``,
  object: s.object({
    doc: 'A service.',
    aliases: { cmd: 'command', ports: 'port', environment: 'env', healthcheck: 'health', health_check: 'health', volume: 'volumes', url_var: 'url_env', env_var: 'url_env', auto_update: 'update', autoupdate: 'update' },
    fields: {
      image: s.string({
        doc: 'The image the service runs, as `docker pull` takes it.',
        details: 'berth pulls it when the engine does not have it (from a private registry with the login of `berth registry login`). No tag means `latest`.',
        example: 'redis:7-alpine',
        required: 'berth runs the service from it',
        ...IMAGE_STRING,
      }),
      command: s.string({
        doc: 'Shell command the container runs instead of the image\'s own.',
        type: 'command',
        example: 'redis-server --appendonly yes',
        optional: true,
        unset: 'the image\'s own command',
        notBlank: true,
      }),
      port: s.int({
        doc: 'The port processes connect to.',
        example: 6380,
        optional: true,
        unset: byImage,
        min: 1,
        max: 65535,
      }),
      env: serviceEnv,
      volumes,
      health: serviceHealth,
      url_env: {
        as: 'urlEnv',
        node: s.string({
          doc: 'The environment variable in which every process gets the URL of this service.',
          details: 'Each variable comes from one place: two services cannot use the same one, and the top-level `env` cannot set it.',
          type: 'variable name',
          example: 'CACHE_URL',
          optional: true,
          unset: 'by image: REDIS_URL for redis; DATABASE_URL for postgres, postgis, mysql and mariadb; MONGO_URL for mongo; MEMCACHED_URL for memcached; otherwise none',
          pattern: /^(?!PORT$)(?!BERTH_)[A-Za-z_][A-Za-z0-9_]*$/,
          patternHint: `${ENV_NAME_HINT}; not PORT or BERTH_*, which berth sets`,
          suggest: (name) => suggestEnvName(name).toUpperCase(),
        }),
      },
      url: s.string({
        doc: 'The URL processes get in `url_env`, instead of the one berth builds from the service\'s name and port.',
        type: 'URL',
        example: 'redis://redis:6379/1',
        optional: true,
        unset: 'built by berth from the image, the service name and `port`',
        pattern: /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/,
        patternHint: 'a URL with a scheme, such as `redis://redis:6379/1`, without spaces',
      }),
      update: serviceUpdate,
    },
    // Defaults that follow the image: `redis:7` listens on 6379 and is handed over as REDIS_URL.
    resolve: (svc): ServiceSpec => ({
      ...svc,
      port: svc.port ?? imageDefaults(svc.image)?.port,
      urlEnv: svc.urlEnv ?? imageDefaults(svc.image)?.urlEnv,
    }),
    rules: [
      {
        doc: 'Two volumes cannot be mounted at the same path.',
        check: (svc) => {
          const seen = new Map<string, string>();
          const problems: RuleProblem[] = [];
          for (const [name, path] of Object.entries(svc.volumes)) {
            const first = seen.get(path);
            if (first === undefined) seen.set(path, name);
            else problems.push({ key: ['volumes', name], message: `is mounted at ${path}, like \`${first}\``, fix: 'mount it at another path, or remove it' });
          }
          return problems;
        },
      },
      {
        doc: '`update` follows a tag: an `image` pinned by digest (`@sha256:...`) never changes, so it cannot have `update`.',
        check: (svc) => (svc.update !== undefined && pinsDigest(svc.image) ? pinnedUpdate() : undefined),
      },
    ],
  }),
});

/** A service, resolved: `port` and `urlEnv` default from the image name (see IMAGE_DEFAULTS). */
export interface ServiceSpec {
  readonly image: string;
  readonly command: string | undefined;
  readonly port: number | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly volumes: Readonly<Record<string, string>>;
  readonly health: ServiceHealthSpec | undefined;
  readonly urlEnv: string | undefined;
  readonly url: string | undefined;
  /** Auto-update of the service's image; undefined unless set. */
  readonly update: UpdateSpec | undefined;
}

export const services = s.record({
  doc: 'Services such as a database or a cache, by name: long-lived containers on the app\'s private network, never routed or published.',
  details:
    'Docker runtime only. Processes reach a service by its name and `port`, and get its URL in `url_env`. ' +
    'A string is short for `{ image: ... }`. A service and a process cannot share a name.',
  keys: {
    name: 'service name',
    placeholder: '<name>',
    pattern: /^[a-z][a-z0-9-]{0,29}$/,
    hint: '1 to 30 lowercase letters, digits and `-`, starting with a letter',
    suggest: (key) => key.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 30),
  },
  value: service,
  maxEntries: 20,
  default: {},
  example: {
    redis: { image: 'redis:7-alpine', command: 'redis-server --appendonly yes', volumes: { data: '/data' }, health: { command: 'redis-cli ping' }, update: '1h' },
    db: 'postgres:16',
  },
});
