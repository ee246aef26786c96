/**
 * What the pull code needs to know about an image reference, read as the engine reads it (pure). The
 * references reach the runtime already validated (berth.yaml, the API: ../../registry/reference.ts); an
 * invalid one left is refused by the engine, and that answer is classified like any other
 * (./pull-errors.ts).
 */

export interface PullTarget {
  /** `fromImage` of POST /images/create: the name without tag or digest. */
  fromImage: string;
  /**
   * `tag` of POST /images/create: the tag, the digest (`sha256:...`, which the engine takes there too), or
   * `latest`. Never empty: an empty tag makes the engine pull every tag of the repository.
   */
  tag: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** `redis:7` -> redis + 7, `ghcr.io/a/b@sha256:..` -> ghcr.io/a/b + sha256:.., `127.0.0.1:5000/x` -> .. + latest. */
export function pullTarget(ref: string): PullTarget {
  const at = ref.indexOf('@');
  if (at >= 0 && DIGEST.test(ref.slice(at + 1))) {
    // A digest wins over a tag written next to it (`name:tag@sha256:...`), as the engine decides.
    const name = ref.slice(0, at);
    return { fromImage: withoutTag(name), tag: ref.slice(at + 1) };
  }
  const name = withoutTag(ref);
  return { fromImage: name, tag: name.length < ref.length ? ref.slice(name.length + 1) : 'latest' };
}

/** The registry a reference names: its first part when that has a `.` or `:` or is `localhost`, else Docker Hub. */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = ref.slice(0, slash);
  if (first === 'index.docker.io') return 'docker.io';
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/**
 * Whether `ref` is an image id (`sha256:<64 hex>`), as build() returns: such an image is made here, never
 * pulled. Anything else is a reference the engine can pull.
 */
export function isImageId(ref: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(ref);
}

/** The name without its `:tag`: the last `:` after the last `/` starts the tag (a registry port comes before a `/`). */
function withoutTag(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
