/**
 * Image references as Docker reads them: `[host[:port]/]path[:tag][@digest]`, the grammar of
 * distribution/reference with the checks Docker Engine adds when it parses a name to pull (a lowercase
 * path, at most 255 characters once `docker.io/library/` is added, a digest of the right length, no bare
 * 64-digit ID). `image` and `services.<name>.image` are checked with it, so a reference the engine would
 * refuse is an issue in berth.yaml with a fix, never a failed pull. Only a first part with a `.` or a
 * `:port`, or `localhost`, is a registry host: `redis/redis-stack` is a path on Docker Hub.
 * src/manifest/image-reference.test.ts compares every verdict with a real engine's.
 */

const HOST_PART = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const HOST = `(?:localhost(?::[0-9]+)?|${HOST_PART}(?:\\.${HOST_PART})+(?::[0-9]+)?|${HOST_PART}:[0-9]+)`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '\\w[\\w.-]{0,127}';
/** The digest algorithms Docker accepts, with their length in hex digits. */
const DIGEST_LENGTHS: Readonly<Record<string, number>> = Object.freeze({ sha256: 64, sha384: 96, sha512: 128 });
const DIGEST = Object.entries(DIGEST_LENGTHS).map(([algorithm, n]) => `${algorithm}:[a-f0-9]{${n}}`).join('|');

/** A valid reference, for the JSON Schema; `imageReferenceProblem` says the same in words, and adds the name's length. */
export const IMAGE_REFERENCE = new RegExp(`^(?![a-f0-9]{64}$)(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@(?:${DIGEST}))?$`);
export const IMAGE_REFERENCE_HINT = 'an image such as `redis:7`, `postgres:16-alpine` or `ghcr.io/acme/web:1.4`, with a lowercase name';

/** Docker's limit on a repository name, counted with the registry host it gets (`docker.io/library/redis`). */
export const MAX_IMAGE_NAME_LENGTH = 255;
/** The longest valid reference: a name, a 128-character tag and a sha512 digest. */
export const MAX_IMAGE_REFERENCE_LENGTH = MAX_IMAGE_NAME_LENGTH + ':'.length + 128 + '@sha512:'.length + 128;

const HOST_RE = new RegExp(`^${HOST}$`);
const COMPONENT_RE = new RegExp(`^${COMPONENT}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `x` as a code span, cut short: a pasted blob must not flood the message. */
const code = (text: string) => `\`${text.length > 40 ? `${text.slice(0, 39)}…` : text}\``;

/**
 * Why `text` is not an image reference Docker can pull, in words; undefined when it is one. The words
 * follow "`"Redis:7" is not a valid image: `".
 */
export function imageReferenceProblem(text: string): string | undefined {
  if (SCHEME.test(text)) return 'an image reference has no scheme such as `https://`: it starts with the registry host, as in `ghcr.io/acme/web:1.4`';
  if (/\s/.test(text)) return 'an image reference has no spaces';
  const at = text.indexOf('@');
  const named = at === -1 ? text : text.slice(0, at);
  if (at !== -1) {
    const problem = digestProblem(text.slice(at + 1));
    if (problem) return problem;
  }
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const name = colon > slash ? named.slice(0, colon) : named;
  if (colon > slash) {
    const tag = named.slice(colon + 1);
    if (tag === '') return 'it ends its name with `:` but no tag; write the tag after it, or leave out the `:` for `latest`';
    if (!TAG_RE.test(tag)) return `the tag ${code(tag)} is not valid: a tag is 1 to 128 letters, digits, \`_\`, \`.\` and \`-\`, not starting with \`.\` or \`-\``;
  }
  if (name === '') return 'it has no name before its tag or digest, such as `redis` in `redis:7`';
  if (at === -1 && colon <= slash && /^[a-f0-9]{64}$/.test(name)) return 'a 64-digit hex string is an image ID on one engine, not a name a registry serves; write the image\'s name, such as `redis:7`';
  const parts = name.split('/');
  if (parts.includes('')) return 'its name has an empty part: no `/` at either end, and none twice in a row';
  const [first, ...rest] = parts;
  const hostLike = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  // Docker reads `ex_ample.com/x` as a path when its first part is no host name: so does berth.
  if (hostLike && !HOST_RE.test(first) && !COMPONENT_RE.test(first)) {
    return `${code(first)} is not a valid registry host: a host name with an optional port, such as \`ghcr.io\` or \`localhost:5000\``;
  }
  const host = hostLike && HOST_RE.test(first);
  for (const part of host ? rest : parts) {
    if (COMPONENT_RE.test(part)) continue;
    if (COMPONENT_RE.test(part.toLowerCase())) return `the name must be lowercase, unlike ${code(part)}`;
    return `${code(part)} is not a valid part of a name: lowercase letters and digits, with single \`.\`, \`_\` or \`__\`, or dashes, between them`;
  }
  const full = host ? name : rest.length === 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
  if (full.length > MAX_IMAGE_NAME_LENGTH) {
    const added = host ? '' : ` counting the \`${full.slice(0, full.length - name.length)}\` it stands for`;
    return `its name is ${full.length} characters long${added}; Docker allows at most ${MAX_IMAGE_NAME_LENGTH}`;
  }
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (digest.includes('@')) return 'it has more than one `@`; one digest, such as `@sha256:` and 64 hex digits, ends a reference';
  const colon = digest.indexOf(':');
  const algorithm = colon === -1 ? '' : digest.slice(0, colon);
  if (!Object.hasOwn(DIGEST_LENGTHS, algorithm)) return `the digest after \`@\` must start with \`sha256:\` (or \`sha384:\`, \`sha512:\`), not ${code(digest)}`;
  const length = DIGEST_LENGTHS[algorithm];
  if (!new RegExp(`^[a-f0-9]{${length}}$`).test(digest.slice(colon + 1))) return `the digest after \`@\` must be \`${algorithm}:\` and ${length} lowercase hex digits`;
  return undefined;
}

/**
 * A reference to offer in a fix: trimmed, without `https://` or `docker pull`, the name lowercased (not the
 * registry host or the tag), a dangling `:` dropped. The caller offers it only if it is valid.
 */
export function suggestImageReference(text: string): string {
  const trimmed = text.trim().replace(/^docker\s+(pull|run)\s+/i, '').replace(SCHEME, '').replace(/\/+$/, '');
  const at = trimmed.indexOf('@');
  const digest = at === -1 ? '' : trimmed.slice(at).toLowerCase();
  const named = (at === -1 ? trimmed : trimmed.slice(0, at)).replace(/:$/, '');
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > slash ? named.slice(colon) : '';
  const parts = (colon > slash ? named.slice(0, colon) : named).split('/');
  const host = parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost') ? parts.slice(0, 1) : [];
  return [...host, ...parts.slice(host.length).map((part) => part.toLowerCase())].join('/') + tag + digest;
}

/** True for a reference pinned to a digest (`redis@sha256:...`): it names one image forever, whatever its tag says. */
export function pinsDigest(reference: string): boolean {
  return reference.includes('@');
}

/** What every `image` key passes to s.string: its type, limits, checks and the fix it offers. */
export const IMAGE_STRING = {
  type: 'image',
  notBlank: true,
  maxLength: MAX_IMAGE_REFERENCE_LENGTH,
  pattern: IMAGE_REFERENCE,
  patternHint: IMAGE_REFERENCE_HINT,
  explain: imageReferenceProblem,
  suggest: suggestImageReference,
} as const;
