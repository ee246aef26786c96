/** What berth knows of the images services run: defaults by image name (the reference grammar: ./image-reference.ts). */

/** What berth assumes of an image it knows by name, whatever its registry, path and tag. */
export const IMAGE_DEFAULTS: Readonly<Record<string, { readonly port: number; readonly urlEnv: string }>> = Object.freeze({
  redis: { port: 6379, urlEnv: 'REDIS_URL' },
  postgres: { port: 5432, urlEnv: 'DATABASE_URL' },
  postgis: { port: 5432, urlEnv: 'DATABASE_URL' },
  mysql: { port: 3306, urlEnv: 'DATABASE_URL' },
  mariadb: { port: 3306, urlEnv: 'DATABASE_URL' },
  mongo: { port: 27017, urlEnv: 'MONGO_URL' },
  memcached: { port: 11211, urlEnv: 'MEMCACHED_URL' },
});

/** The image's own name: `docker.io/library/mariadb:11` -> `mariadb`, `postgis/postgis:16-3.4@sha256:...` -> `postgis`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0];
  const last = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return last.split(':')[0].toLowerCase();
}

/** The defaults for an image berth knows, such as `redis:7-alpine`; undefined for any other image. */
export function imageDefaults(image: string): { readonly port: number; readonly urlEnv: string } | undefined {
  const name = imageName(image);
  return Object.hasOwn(IMAGE_DEFAULTS, name) ? IMAGE_DEFAULTS[name] : undefined;
}
