/**
 * The connection settings each process gets for the app's services (pure): `REDIS_URL=redis://redis:6379`,
 * `DATABASE_URL=postgres://user:password@db:5432/db` built from the service's own env, or the manifest's
 * `url` when it gives one. Services are reached by name on the app's private network.
 */
import { recordOf } from '../lib/record.ts';
import { imageName, type Manifest, type ServiceSpec } from '../manifest/schema.ts';

export function serviceUrl(name: string, spec: ServiceSpec): string | undefined {
  if (spec.url) return spec.url;
  const port = spec.port;
  const host = port ? `${name}:${port}` : name;
  const env = spec.env;
  switch (imageName(spec.image)) {
    case 'redis':
      return `redis://${env.REDIS_PASSWORD ? `:${encodeURIComponent(env.REDIS_PASSWORD)}@` : ''}${host}`;
    case 'postgres':
    case 'postgis': {
      const user = env.POSTGRES_USER ?? 'postgres';
      const password = env.POSTGRES_PASSWORD ? `:${encodeURIComponent(env.POSTGRES_PASSWORD)}` : '';
      return `postgres://${encodeURIComponent(user)}${password}@${host}/${encodeURIComponent(env.POSTGRES_DB ?? user)}`;
    }
    case 'mysql':
    case 'mariadb': {
      const user = env.MYSQL_USER ?? env.MARIADB_USER ?? 'root';
      const password = env.MYSQL_PASSWORD ?? env.MARIADB_PASSWORD ?? env.MYSQL_ROOT_PASSWORD ?? env.MARIADB_ROOT_PASSWORD;
      const db = env.MYSQL_DATABASE ?? env.MARIADB_DATABASE ?? '';
      return `mysql://${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@${host}/${encodeURIComponent(db)}`;
    }
    case 'mongo':
      return `mongodb://${host}`;
    case 'memcached':
      return host;
    default:
      return port ? `${name}:${port}` : undefined;
  }
}

/** Env for every process of a release: one variable per service that has a `url_env`. */
export function serviceEnv(manifest: Manifest): Record<string, string> {
  const entries: [string, string][] = [];
  for (const [name, spec] of Object.entries(manifest.services ?? {})) {
    const url = spec.urlEnv ? serviceUrl(name, spec) : undefined;
    if (spec.urlEnv && url) entries.push([spec.urlEnv, url]);
  }
  // Null-prototype: a `url_env` named `__proto__` is a variable like any other.
  return recordOf(entries);
}

/** Secrets among the service URLs: the passwords they carry (masked in logs like other secrets). */
export function serviceSecrets(manifest: Manifest): string[] {
  const out: string[] = [];
  for (const spec of Object.values(manifest.services ?? {})) {
    for (const key of ['REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'MYSQL_PASSWORD', 'MYSQL_ROOT_PASSWORD', 'MARIADB_PASSWORD', 'MARIADB_ROOT_PASSWORD']) {
      const value = spec.env[key];
      // Both spellings: the raw value, and the one inside the URL.
      if (value) out.push(value, encodeURIComponent(value));
    }
  }
  return out;
}
