/**
 * Docker image references, parsed and normalized as the engine does (the grammar of
 * github.com/distribution/reference, with Docker's normalization):
 *
 *   reference   := name [ ":" tag ] [ "@" digest ]
 *   name        := [domain "/"] path            at most 255 characters, domain included
 *   domain      := host [":" port]              host: domain-name | IPv4 | "[" IPv6 "]"
 *   path        := component ["/" component]*  component: [a-z0-9]+ ((\. | _ | __ | -+) [a-z0-9]+)*
 *   tag         := [\w][\w.-]{0,127}
 *   digest      := algorithm ":" hex            sha256 (64 hex), sha384 (96) or sha512 (128), lowercase
 *
 * `redis:7` is `docker.io/library/redis:7`; the first path element is a registry when it has a `.` or
 * a `:`, is `localhost` or has an uppercase letter; `index.docker.io` is `docker.io`; a reference with
 * neither tag nor digest gets `latest`. Pure: no I/O, imports only the error catalogue.
 */
import { fail } from '../errors/catalogue.ts';

export interface ImageReference {
  /** The registry: `docker.io` for Docker Hub, `ghcr.io`, `127.0.0.1:5055`, `[::1]:5000`. */
  readonly domain: string;
  /** The repository inside it: `library/redis`, `acme/app`. */
  readonly path: string;
  /** `latest` when neither tag nor digest was written; undefined for `name@digest`. */
  readonly tag: string | undefined;
  /** `sha256:<64 hex>` when pinned. */
  readonly digest: string | undefined;
}

/** Why a reference is refused, and what to write instead. */
export interface ReferenceProblem {
  reason: string;
  fix: string;
}

export const DOCKER_HUB = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** distribution/reference's NameTotalLengthMax, for `domain/path`. */
export const NAME_MAX = 255;
/** Longer input is refused before any pattern runs: the longest valid reference is about 520 characters. */
const INPUT_MAX = 1024;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const IMAGE_ID = /^[a-f0-9]{64}$/;

const EXAMPLE = 'an image such as redis:7, ghcr.io/acme/app:1.2 or 127.0.0.1:5000/team/app@sha256:<digest>';

/** The reference, normalized and frozen; throws IMAGE_REFERENCE_INVALID naming what is wrong and the fix. */
export function parseReference(text: string): ImageReference {
  const result = checkReference(text);
  if (!result.ok) throw fail('IMAGE_REFERENCE_INVALID', { reference: text, reason: result.reason, fix: result.fix });
  return result.reference;
}

/** The problem with a reference, for validators that collect issues; undefined when it is valid. */
export function referenceProblem(text: string): ReferenceProblem | undefined {
  const result = checkReference(text);
  return result.ok ? undefined : { reason: result.reason, fix: result.fix };
}

export function checkReference(text: string): ({ ok: true; reference: ImageReference }) | ({ ok: false } & ReferenceProblem) {
  const problem = (reason: string, fix: string) => ({ ok: false as const, reason, fix });
  if (typeof text !== 'string' || text.length === 0) return problem('the reference is empty', `write ${EXAMPLE}`);
  if (text.length > INPUT_MAX) return problem(`it is ${text.length} characters long`, `a reference's repository name has at most ${NAME_MAX} characters: use ${EXAMPLE}`);
  const odd = /[^\x21-\x7e]/.exec(text);
  if (odd) return problem(`it contains ${describeCharacter(odd[0])}`, 'remove it: a reference has no spaces, control or non-ASCII characters');
  if (IMAGE_ID.test(text)) {
    return problem('a 64-character hexadecimal string is an image ID, not a reference', 'name the repository, pinned if you want: name@sha256:<digest>');
  }

  const at = text.indexOf('@');
  const beforeDigest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const slash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', slash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : beforeDigest.slice(colon + 1);
  if (name === '') return problem('it has no repository name', `write ${EXAMPLE}`);

  const { domain, path } = splitDomain(name);
  if (path.toLowerCase() !== path) {
    return problem(`the repository name "${path}" has uppercase letters`, `write it in lowercase: ${familiar(domain, path.toLowerCase())}${tag !== undefined ? `:${tag}` : ''}`);
  }
  if (!isRegistryDomain(domain)) {
    return problem(`"${domain}" is not a valid registry host`, 'write the registry as a host name or IP address with an optional port, such as ghcr.io or 127.0.0.1:5000');
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      return problem(
        component === '' ? `the repository name "${path}" has an empty part` : `"${component}" in the repository name is not valid`,
        'each part between slashes is lowercase letters and digits, joined by single ".", "_", "__" or dashes (not at the start or end)',
      );
    }
  }
  const fullName = `${domain}/${path}`;
  if (fullName.length > NAME_MAX) return problem(`the repository name is ${fullName.length} characters long (${fullName.slice(0, 40)}...)`, `shorten it to at most ${NAME_MAX} characters, registry included`);
  if (tag !== undefined && !TAG.test(tag)) {
    return problem(
      tag === '' ? 'the tag after ":" is empty' : `the tag "${tag.length > 40 ? `${tag.slice(0, 40)}...` : tag}" is not valid`,
      'a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-" (or leave it out for latest)',
    );
  }
  if (digest !== undefined) {
    const digestIssue = digestProblem(digest);
    if (digestIssue) return problem(digestIssue, 'copy the whole digest, such as sha256:<64 hex digits> (`docker images --digests` shows it)');
  }
  const reference: ImageReference = Object.freeze({ domain, path, tag: tag ?? (digest === undefined ? DEFAULT_TAG : undefined), digest });
  return { ok: true, reference };
}

/** Why a digest (`sha256:...`) is not valid, or undefined. Used for digests registries send too. */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `the digest "${clip(digest)}" is not algorithm:hex with at least 32 hex digits`;
  const [algorithm, hex] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `the digest algorithm "${clip(algorithm)}" is not supported (sha256, sha384 or sha512)`;
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) return `the ${algorithm} digest needs exactly ${length} lowercase hex digits`;
  return undefined;
}

/** Whether `domain` is a registry as references write it: a host name, IPv4 or [IPv6], with an optional port. */
export const isRegistryDomain = (domain: string): boolean => domain.length <= NAME_MAX && DOMAIN.test(domain);

/** `docker.io/library/redis`: the repository with its registry. */
export const nameOf = (ref: ImageReference): string => `${ref.domain}/${ref.path}`;

/** The full normalized form: `docker.io/library/redis:7`, `ghcr.io/acme/app@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return `${nameOf(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The short form Docker prints: `redis:7`, `acme/app:1`, `ghcr.io/acme/app@sha256:...`. */
export function familiarReference(ref: ImageReference): string {
  return `${familiar(ref.domain, ref.path)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The reference pinned to one digest, without its tag: what a release records so a rollback runs the same bytes. */
export function pinReference(ref: ImageReference, digest: string): ImageReference {
  const issue = digestProblem(digest);
  if (issue) throw fail('IMAGE_REFERENCE_INVALID', { reference: `${nameOf(ref)}@${digest}`, reason: issue, fix: 'pin to a digest the registry reported' });
  return Object.freeze({ domain: ref.domain, path: ref.path, tag: undefined, digest });
}

/** What to ask the registry's manifest endpoint for: the digest when pinned, else the tag. */
export const manifestKey = (ref: ImageReference): string => ref.digest ?? ref.tag ?? DEFAULT_TAG;

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DOCKER_HUB, path: `library/${name}` };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain = DOCKER_HUB;
  let path = name;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    domain = first === 'index.docker.io' ? DOCKER_HUB : first;
    path = rest;
  }
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

function familiar(domain: string, path: string): string {
  if (domain !== DOCKER_HUB) return `${domain}/${path}`;
  const official = path.startsWith('library/') ? path.slice('library/'.length) : undefined;
  return official !== undefined && !official.includes('/') ? official : path;
}

function describeCharacter(char: string): string {
  if (char === ' ') return 'a space';
  if (char === '\t') return 'a tab';
  const code = char.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `the non-ASCII character "${char}"`;
}

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}...` : text);
