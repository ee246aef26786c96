/**
 * `image` and `services.<name>.image` in berth.yaml: image references read with berth's one grammar
 * (../../lib/image-reference.ts, where the engine's verdicts are checked), worded for berth.yaml. A
 * reference the engine would refuse is an issue in berth.yaml with a fix, never a failed pull. What is here
 * is berth.yaml's only: the words after "`"Redis:7" is not a valid image: `", the fix offered, the limits
 * and pattern of the JSON Schema, and whether an image is pinned (`update` cannot follow a digest).
 */
import { IMAGE_REFERENCE_PATTERN, REFERENCE_MAX, referenceFlaw, referenceParts, registryPart, type ReferenceFlaw } from '../../lib/image-reference.ts';

/** A valid reference, for the JSON Schema; `imageReferenceProblem` says the same in words, and adds the name's length. */
export const IMAGE_REFERENCE = IMAGE_REFERENCE_PATTERN;
export const IMAGE_REFERENCE_HINT = 'an image such as `redis:7`, `postgres:16-alpine` or `ghcr.io/acme/web:1.4`, with a lowercase name';

/** The longest valid reference: a name, a 128-character tag and a sha512 digest. */
export const MAX_IMAGE_REFERENCE_LENGTH = REFERENCE_MAX;

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `x` as a code span, cut short: a pasted blob must not flood the message. */
const code = (text: string) => `\`${text.length > 40 ? `${text.slice(0, 39)}…` : text}\``;

/**
 * Why `text` is not an image reference Docker can pull, in words; undefined when it is one. The words
 * follow "`"Redis:7" is not a valid image: `".
 */
export function imageReferenceProblem(text: string): string | undefined {
  const flaw = referenceFlaw(text);
  return flaw === undefined ? undefined : inWords(flaw);
}

function inWords(flaw: ReferenceFlaw): string {
  switch (flaw.kind) {
    case 'empty':
      return 'it is empty: write an image such as `redis:7`';
    case 'too-long':
      return `it is ${flaw.length} characters long; an image reference has at most ${REFERENCE_MAX}`;
    case 'scheme':
      return 'an image reference has no scheme such as `https://`: it starts with the registry host, as in `ghcr.io/acme/web:1.4`';
    case 'character':
      if (flaw.whitespace) return 'an image reference has no spaces';
      return /[\u0000-\u001f\u007f-\u009f]/.test(flaw.character)
        ? 'an image reference has no control characters'
        : `an image reference is ASCII letters, digits and \`.\`, \`_\`, \`-\`, \`/\`, \`:\` and \`@\`, unlike ${code(flaw.character)}`;
    case 'image-id':
      return 'a 64-digit hex string is an image ID on one engine, not a name a registry serves; write the image\'s name, such as `redis:7`';
    case 'digest':
      if (flaw.digest.includes('@')) return 'it has more than one `@`; one digest, such as `@sha256:` and 64 hex digits, ends a reference';
      if (flaw.hexDigits === undefined) return `the digest after \`@\` must start with \`sha256:\` (or \`sha384:\`, \`sha512:\`), not ${code(flaw.digest)}`;
      return `the digest after \`@\` must be \`${flaw.algorithm}:\` and ${flaw.hexDigits} lowercase hex digits`;
    case 'empty-tag':
      return 'it ends its name with `:` but no tag; write the tag after it, or leave out the `:` for `latest`';
    case 'tag':
      return `the tag ${code(flaw.tag)} is not valid: a tag is 1 to 128 letters, digits, \`_\`, \`.\` and \`-\`, not starting with \`.\` or \`-\``;
    case 'no-name':
      return 'it has no name before its tag or digest, such as `redis` in `redis:7`';
    case 'empty-part':
      return 'its name has an empty part: no `/` at either end, and none twice in a row';
    case 'host':
      return flaw.ipv6
        ? `${code(flaw.host)} is not a valid registry host: Docker Engine 20.10 cannot read an IPv6 address in an image; name the registry by a host name, such as \`localhost:5000\``
        : `${code(flaw.host)} is not a valid registry host: a host name with an optional port, such as \`ghcr.io\` or \`localhost:5000\``;
    case 'uppercase':
      return `the name must be lowercase, unlike ${code(flaw.part)}`;
    case 'part':
      return `${code(flaw.part)} is not a valid part of a name: lowercase letters and digits, with single \`.\`, \`_\` or \`__\`, or dashes, between them`;
    case 'name-length': {
      const { length, name, normalized } = flaw;
      const counted = normalized === name ? '' : normalized.endsWith(name) ? ` counting the \`${normalized.slice(0, normalized.length - name.length)}\` it stands for` : ` as Docker reads it (${code(normalized)})`;
      return `its name is ${length} characters long${counted}; Docker allows at most 255`;
    }
  }
}

/**
 * A reference to offer in a fix: trimmed, without `https://` or `docker pull`, the name lowercased (not the
 * registry host or the tag), a dangling `:` dropped. The caller offers it only if it is valid.
 */
export function suggestImageReference(text: string): string {
  const trimmed = text.trim().replace(/^docker\s+(pull|run)\s+/i, '').replace(SCHEME, '').replace(/\/+$/, '');
  const at = trimmed.indexOf('@');
  const digest = at === -1 ? '' : trimmed.slice(at).toLowerCase();
  const { name, tag } = referenceParts((at === -1 ? trimmed : trimmed.slice(0, at)).replace(/:$/, ''));
  const host = registryPart(name);
  const path = host === undefined ? name : name.slice(host.length + 1);
  return `${host === undefined ? '' : `${host}/`}${path.toLowerCase()}${tag !== undefined ? `:${tag}` : ''}${digest}`;
}

/** True for a reference pinned to a digest (`redis@sha256:...`): it names one image forever, whatever its tag says. */
export function pinsDigest(reference: string): boolean {
  return referenceParts(reference).digest !== undefined;
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
