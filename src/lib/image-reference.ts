/**
 * Docker image references: the one grammar berth reads them with, in berth.yaml, in the API, in the
 * registry client and in the docker driver's pulls (pure, no imports).
 *
 *   reference := name [":" tag] ["@" digest]       the tag is after the last ":" that follows the last "/"
 *   name      := [host "/"] part ("/" part)*        at most 255 characters as the engine counts it
 *   host      := label ("." label)* [":" port]      read as a host only before a "/", and only with a "." or a
 *                                                   ":port", or when it is `localhost`; no IPv6 literal
 *   part      := [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*
 *   tag       := [\w][\w.-]{0,127}
 *   digest    := sha256:<64 hex> | sha384:<96 hex> | sha512:<128 hex>   (lowercase hex)
 *
 * plus: a bare 64-digit hex string is an image ID, not a reference. `redis:7` means
 * `docker.io/library/redis:7`, `index.docker.io` is `docker.io`, and a reference with neither tag nor digest
 * means `latest`.
 *
 * Where Docker engines differ, berth takes what every engine it supports (API 1.41 to 1.47: Docker 20.10 to
 * 27) accepts, so a reference berth accepts is never refused by the engine that pulls it:
 * - an upper-case first part without "." or ":" (`Foo/bar`): newer engines read it as a registry host,
 *   Engine 20.10 refuses it ("repository name must be lowercase"): refused, as a name to write in lowercase;
 * - an IPv6 registry (`[::1]:5000/app`): newer engines take it, Engine 20.10 refuses it: refused;
 * - a first part with a "." that is no host name but a valid path part (`ex_ample.com/app`): every engine
 *   parses it, as a name without a registry, then fails to pull it (`Get "https:/v2/": http: no Host in
 *   request URL`): refused, as a registry host that is not valid.
 * ./image-reference-engine.test.ts checks every verdict against a real engine.
 *
 * What is wrong with a reference is data (`ReferenceFlaw`): `describeFlaw` words it for the API and the CLI
 * (IMAGE_REFERENCE_INVALID), and berth.yaml words it its own way (src/manifest/sections/image-reference.ts).
 * `IMAGE_REFERENCE_PATTERN` is the same grammar as one regular expression, for the JSON Schema of berth.yaml.
 * No imports (lib sits on the ground floor beside errors/): what throws the catalogue error is
 * ../registry/reference.ts (parseReference, pinReference) and, for pulls, ../runtime/docker/image-ref.ts.
 */

export interface ImageReference {
  /** The registry: `docker.io` for Docker Hub, `ghcr.io`, `127.0.0.1:5055`. */
  readonly domain: string;
  /** The repository inside it: `library/redis`, `acme/app`. */
  readonly path: string;
  /** `latest` when neither tag nor digest was written; undefined for `name@digest`. */
  readonly tag: string | undefined;
  /** `sha256:<64 hex>` when pinned. */
  readonly digest: string | undefined;
}

/** Why a reference is refused, and what to write instead: the words of IMAGE_REFERENCE_INVALID. */
export interface ReferenceProblem {
  reason: string;
  fix: string;
}

/**
 * What is wrong with a reference, the first thing found in this order. `path` is the repository as the
 * engine reads it (`library/Redis` for `Redis:7`); `name` the reference without tag and digest, as written.
 */
export type ReferenceFlaw =
  | { kind: 'empty' }
  | { kind: 'too-long'; length: number }
  | { kind: 'scheme'; scheme: string }
  | { kind: 'character'; character: string; whitespace: boolean }
  | { kind: 'image-id' }
  | { kind: 'digest'; digest: string; algorithm: string; hexDigits: number | undefined }
  | { kind: 'empty-tag' }
  | { kind: 'tag'; tag: string }
  | { kind: 'no-name' }
  | { kind: 'empty-part'; path: string }
  | { kind: 'host'; host: string; ipv6: boolean }
  | { kind: 'uppercase'; part: string; path: string; lowercase: string }
  | { kind: 'part'; part: string; path: string }
  | { kind: 'name-length'; length: number; name: string; normalized: string };

export type ReferenceCheck = { ok: true; reference: ImageReference } | ({ ok: false } & ReferenceProblem);

export const DOCKER_HUB = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** distribution/reference's NameTotalLengthMax, for `domain/path` as the engine normalizes it. */
export const NAME_MAX = 255;
/** The digest algorithms the engine accepts, with their length in hex digits. */
export const DIGEST_HEX_DIGITS: Readonly<Record<string, number>> = Object.freeze({ sha256: 64, sha384: 96, sha512: 128 });
/** The longest valid reference: a name, a 128-character tag and a sha512 digest. */
export const REFERENCE_MAX = NAME_MAX + ':'.length + 128 + '@sha512:'.length + 128;
/** Longer input is refused before any pattern runs. */
const INPUT_MAX = 1024;

// The grammar's pieces, as pattern sources: the parser and IMAGE_REFERENCE_PATTERN are built from the same ones.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const HOST = `(?:localhost(?::[0-9]+)?|${LABEL}(?:\\.${LABEL})+(?::[0-9]+)?|${LABEL}:[0-9]+)`;
const PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '\\w[\\w.-]{0,127}';
const DIGEST = Object.entries(DIGEST_HEX_DIGITS).map(([algorithm, n]) => `${algorithm}:[a-f0-9]{${n}}`).join('|');

/**
 * The grammar as one regular expression, without the length of the name (the one rule a pattern cannot
 * count): a first part with a "." or ":" before a "/" must be a host; a bare 64-digit hex string is refused.
 */
export const IMAGE_REFERENCE_PATTERN = new RegExp(`^(?![a-f0-9]{64}$)(?:${HOST}/|(?![^/]*[.:][^/]*/))${PART}(?:/${PART})*(?::${TAG})?(?:@(?:${DIGEST}))?$`);

const HOST_RE = new RegExp(`^${HOST}$`);
const PART_RE = new RegExp(`^${PART}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const IMAGE_ID = /^[a-f0-9]{64}$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;
/** A host name, IPv4 or [IPv6], with an optional port: what a registry login may name (isRegistryDomain). */
const LOGIN_HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);

const EXAMPLE = 'an image such as redis:7, ghcr.io/acme/app:1.2 or 127.0.0.1:5000/team/app@sha256:<digest>';
const TAG_FIX = 'a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-" (or leave it out for latest)';
const PART_FIX = 'each part between slashes is lowercase letters and digits, joined by single ".", "_", "__" or dashes (not at the start or end)';

/** The reference, normalized and frozen, or what is wrong with it in the words of IMAGE_REFERENCE_INVALID; never throws. */
export function checkReference(text: string): ReferenceCheck {
  const result = read(text);
  return 'flaw' in result ? { ok: false, ...describeFlaw(result.flaw) } : { ok: true, reference: result.reference };
}

/** The problem with a reference, for validators that collect issues; undefined when it is valid. */
export function referenceProblem(text: string): ReferenceProblem | undefined {
  const result = checkReference(text);
  return result.ok ? undefined : { reason: result.reason, fix: result.fix };
}

/** What is wrong with a reference, as data for a caller with words of its own; undefined when it is valid. */
export function referenceFlaw(text: string): ReferenceFlaw | undefined {
  const result = read(text);
  return 'flaw' in result ? result.flaw : undefined;
}

/**
 * A reference cut where the grammar cuts it, valid or not: the name as written, the tag after the last ":"
 * that follows the last "/" of the name, the digest after the first "@".
 */
export function referenceParts(text: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const at = text.indexOf('@');
  const named = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const colon = named.lastIndexOf(':');
  const tagged = colon > named.lastIndexOf('/');
  return { name: tagged ? named.slice(0, colon) : named, tag: tagged ? named.slice(colon + 1) : undefined, digest };
}

/**
 * The first part of a name when the grammar reads it as a registry: it comes before a "/" and has a "." or
 * a ":", or is `localhost` (`ghcr.io/acme/app`, `localhost:5000/app`); undefined for a Docker Hub name.
 */
export function registryPart(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash === -1) return undefined;
  const first = name.slice(0, slash);
  return first === 'localhost' || first.includes('.') || first.includes(':') ? first : undefined;
}

/**
 * The registry a reference names: `docker.io` for a Docker Hub name (and `index.docker.io`). Read by the
 * grammar's rule even from an invalid reference, for the words of an error about it.
 */
export function registryOf(text: string): string {
  const host = registryPart(referenceParts(text).name);
  return host === undefined || host === 'index.docker.io' ? DOCKER_HUB : host;
}

/** Why a digest (`sha256:...`) is not valid, or undefined. Used for digests registries send too. */
export function digestProblem(digest: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(digest)) return `the digest "${clip(digest)}" is not algorithm:hex with at least 32 hex digits`;
  const [algorithm, hex] = digest.split(':');
  const length = Object.hasOwn(DIGEST_HEX_DIGITS, algorithm) ? DIGEST_HEX_DIGITS[algorithm] : undefined;
  if (length === undefined) return `the digest algorithm "${clip(algorithm)}" is not supported (sha256, sha384 or sha512)`;
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) return `the ${algorithm} digest needs exactly ${length} lowercase hex digits`;
  return undefined;
}

/**
 * Whether `domain` is a registry host as a login names it: a host name, IPv4 or [IPv6], with an optional
 * port. A reference names fewer (no IPv6 literal, no host without a "." or port but `localhost`).
 */
export const isRegistryDomain = (domain: string): boolean => domain.length <= NAME_MAX && LOGIN_HOST.test(domain);

/** `docker.io/library/redis`: the repository with its registry. */
export const nameOf = (ref: ImageReference): string => `${ref.domain}/${ref.path}`;

/** The full normalized form: `docker.io/library/redis:7`, `ghcr.io/acme/app@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return `${nameOf(ref)}${suffix(ref.tag, ref.digest)}`;
}

/** The short form Docker prints: `redis:7`, `acme/app:1`, `ghcr.io/acme/app@sha256:...`. */
export function familiarReference(ref: ImageReference): string {
  return `${familiar(ref.domain, ref.path)}${suffix(ref.tag, ref.digest)}`;
}

/** What to ask the registry's manifest endpoint for: the digest when pinned, else the tag. */
export const manifestKey = (ref: ImageReference): string => ref.digest ?? ref.tag ?? DEFAULT_TAG;

/** A flaw in the words of IMAGE_REFERENCE_INVALID, for the API and the CLI. */
export function describeFlaw(flaw: ReferenceFlaw): ReferenceProblem {
  switch (flaw.kind) {
    case 'empty':
      return { reason: 'the reference is empty', fix: `write ${EXAMPLE}` };
    case 'too-long':
      return { reason: `it is ${flaw.length} characters long`, fix: `a reference's repository name has at most ${NAME_MAX} characters: use ${EXAMPLE}` };
    case 'scheme':
      return { reason: `it starts with "${flaw.scheme}", and a reference has no scheme`, fix: 'start it with the registry host, such as ghcr.io/acme/app:1.2' };
    case 'character':
      return { reason: `it contains ${describeCharacter(flaw.character)}`, fix: 'remove it: a reference has no spaces, control or non-ASCII characters' };
    case 'image-id':
      return { reason: 'a 64-character hexadecimal string is an image ID, not a reference', fix: 'name the repository, pinned if you want: name@sha256:<digest>' };
    case 'digest':
      return { reason: digestProblem(flaw.digest) ?? `the digest "${clip(flaw.digest)}" is not valid`, fix: 'copy the whole digest, such as sha256:<64 hex digits> (`docker images --digests` shows it)' };
    case 'empty-tag':
      return { reason: 'the tag after ":" is empty', fix: TAG_FIX };
    case 'tag':
      return { reason: `the tag "${clip(flaw.tag)}" is not valid`, fix: TAG_FIX };
    case 'no-name':
      return { reason: 'it has no repository name', fix: `write ${EXAMPLE}` };
    case 'empty-part':
      return { reason: `the repository name "${clip(flaw.path, 80)}" has an empty part`, fix: PART_FIX };
    case 'host':
      return flaw.ipv6
        ? { reason: `"${clip(flaw.host)}" is not a valid registry host: Docker Engine 20.10 cannot read an IPv6 address in an image reference`, fix: 'name the registry by a host name with an optional port, such as localhost:5000 or registry.example.com' }
        : { reason: `"${clip(flaw.host)}" is not a valid registry host`, fix: 'write the registry as a host name or IPv4 address with an optional port, such as ghcr.io or 127.0.0.1:5000' };
    case 'uppercase':
      return { reason: `the repository name "${clip(flaw.path, 80)}" has uppercase letters`, fix: `write it in lowercase: ${clip(flaw.lowercase, 300)}` };
    case 'part':
      return { reason: `"${clip(flaw.part)}" in the repository name is not valid`, fix: PART_FIX };
    case 'name-length':
      return { reason: `the repository name is ${flaw.length} characters long (${flaw.normalized.slice(0, 40)}...)`, fix: `shorten it to at most ${NAME_MAX} characters, registry included` };
  }
}

/** The grammar, once: the reference, or its first flaw. */
function read(text: string): { reference: ImageReference } | { flaw: ReferenceFlaw } {
  const flawed = (flaw: ReferenceFlaw) => ({ flaw });
  if (typeof text !== 'string' || text.length === 0) return flawed({ kind: 'empty' });
  if (text.length > INPUT_MAX) return flawed({ kind: 'too-long', length: text.length });
  const scheme = SCHEME.exec(text);
  if (scheme) return flawed({ kind: 'scheme', scheme: scheme[0] });
  const odd = /[^\x21-\x7e]/u.exec(text);
  if (odd) return flawed({ kind: 'character', character: odd[0], whitespace: /\s/.test(odd[0]) });
  if (IMAGE_ID.test(text)) return flawed({ kind: 'image-id' });

  const { name, tag, digest } = referenceParts(text);
  if (digest !== undefined && digestProblem(digest) !== undefined) {
    const algorithm = digest.slice(0, Math.max(0, digest.indexOf(':')));
    return flawed({ kind: 'digest', digest, algorithm, hexDigits: Object.hasOwn(DIGEST_HEX_DIGITS, algorithm) ? DIGEST_HEX_DIGITS[algorithm] : undefined });
  }
  if (tag === '') return flawed({ kind: 'empty-tag' });
  if (tag !== undefined && !TAG_RE.test(tag)) return flawed({ kind: 'tag', tag });
  if (name === '') return flawed({ kind: 'no-name' });

  const host = registryPart(name);
  const domain = host === undefined || host === 'index.docker.io' ? DOCKER_HUB : host;
  const parts = (host === undefined ? name : name.slice(host.length + 1)).split('/');
  const path = domain === DOCKER_HUB && parts.length === 1 ? `library/${parts[0]}` : parts.join('/');
  if (parts.includes('')) return flawed({ kind: 'empty-part', path });
  if (host !== undefined && !HOST_RE.test(host)) return flawed({ kind: 'host', host, ipv6: IPV6_HOST.test(host) });
  for (const part of parts) {
    if (PART_RE.test(part)) continue;
    if (!PART_RE.test(part.toLowerCase())) return flawed({ kind: 'part', part, path });
    const lowercase = `${familiar(domain, path.toLowerCase())}${tag !== undefined ? `:${tag}` : ''}`;
    return flawed({ kind: 'uppercase', part, path, lowercase });
  }
  const normalized = `${domain}/${path}`;
  if (normalized.length > NAME_MAX) return flawed({ kind: 'name-length', length: normalized.length, name, normalized });
  return { reference: Object.freeze({ domain, path, tag: tag ?? (digest === undefined ? DEFAULT_TAG : undefined), digest }) };
}

function familiar(domain: string, path: string): string {
  if (domain !== DOCKER_HUB) return `${domain}/${path}`;
  const official = path.startsWith('library/') ? path.slice('library/'.length) : undefined;
  return official !== undefined && !official.includes('/') ? official : path;
}

const suffix = (tag: string | undefined, digest: string | undefined) => `${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;

function describeCharacter(char: string): string {
  if (char === ' ') return 'a space';
  if (char === '\t') return 'a tab';
  const code = char.codePointAt(0)!;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `the non-ASCII character "${char}"`;
}

const clip = (text: string, max = 40) => (text.length > max ? `${text.slice(0, max)}...` : text);
