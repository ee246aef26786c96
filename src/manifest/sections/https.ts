/**
 * `https`: what the proxy does for the app's hosts once it holds a certificate for them (from ACME, or
 * added with `berth certs add`): redirect plain HTTP, and send HSTS. Getting the certificates needs no key
 * here: every name in `domains` gets one on its own when the server has HTTPS on.
 */
import { defineNode, fail, issue, ok, write, type Result } from '../dsl-node.ts';
import { s, type Infer } from '../schema-dsl.ts';
import { describeValue, isPlainObject } from '../show.ts';

const YEAR_MS = 365 * 86_400_000;

const hstsSettings = s.object({
  doc: 'The Strict-Transport-Security header berth adds to the app\'s answers over HTTPS.',
  aliases: { maxage: 'max_age', 'max-age': 'max_age', includesubdomains: 'include_subdomains', subdomains: 'include_subdomains' },
  fields: {
    max_age: {
      as: 'maxAgeMs',
      node: s.duration({
        doc: 'How long browsers remember to use HTTPS only for the host.',
        details: 'Start small (`5m`) while trying HTTPS out: a browser that saw the header refuses plain HTTP for this long.',
        example: '365d',
        default: '365d',
        min: '0s',
        max: '730d',
      }),
    },
    include_subdomains: {
      as: 'includeSubdomains',
      node: s.boolean({ doc: 'The header covers every subdomain of the host too (`includeSubDomains`).', example: true, default: false }),
    },
    preload: s.boolean({ doc: 'Adds `preload`, asking to be listed in the browsers\' built-in HSTS list (hstspreload.org).', example: false, default: false }),
  },
  rules: [
    {
      doc: '`preload` needs `include_subdomains: true` and a `max_age` of at least 365d (the preload list refuses less).',
      check: (h) =>
        !h.preload ? undefined
        : !h.includeSubdomains ? { key: 'include_subdomains', message: 'is false, but `preload` needs it', fix: 'write `include_subdomains: true`, or remove `preload`' }
        : h.maxAgeMs < YEAR_MS ? { key: 'max_age', message: 'is shorter than 365d, the least the preload list takes', fix: 'write `max_age: 365d`, or remove `preload`' }
        : undefined,
    },
  ],
});

export type HstsSpec = Infer<typeof hstsSettings>;

/** `hsts: true` (a year), `false` (off, as when unset), or the mapping. */
const hsts = defineNode<HstsSpec | undefined>({
  kind: 'shorthand',
  common: {
    doc: 'HTTP Strict Transport Security: browsers that saw it use only HTTPS for the host.',
    details:
      'Off unless set. `hsts: true` sends `max-age=31536000` (a year); a mapping sets `max_age`, `include_subdomains` ' +
      'and `preload`. Sent only over HTTPS, and only once the app serves HTTPS for good: a browser that saw it ' +
      'refuses plain HTTP for the host until `max_age` passes, even if the certificate goes away.',
    example: true,
    optional: true,
    unset: 'no Strict-Transport-Security header',
  },
  type: 'boolean or mapping',
  shape: { kind: 'shorthand', key: 'max_age', object: hstsSettings },
  nullable: true,
  check(value, path, context): Result<HstsSpec | undefined> {
    if (value === false) return ok(undefined);
    if (value === true) return hstsSettings.validate({}, path, context);
    if (isPlainObject(value)) return hstsSettings.validate(value, path, context);
    return fail(issue(path, `expected true, false or a mapping with \`max_age:\`, found ${describeValue(value)}`, write(path, true)));
  },
  schema: () => ({ anyOf: [{ type: 'boolean' }, { ...hstsSettings.jsonSchema(), type: 'object' }] }),
});

export const https = s.object({
  doc: 'What the proxy does for the app\'s hosts that have a certificate: redirects and HSTS.',
  details:
    'When the server has HTTPS on (`--https`, on by default), berth gets a certificate from ACME (Let\'s Encrypt ' +
    'by default) for each name in `domains` on its own, and renews it; `berth certs add` adds your own. A host ' +
    'the proxy holds a valid certificate for is then served over HTTPS, and plain HTTP to it is redirected ' +
    '(308) unless `redirect: false`; `/.well-known/acme-challenge/` always stays on HTTP. Hosts without a ' +
    'certificate (<name>.<base domain>, wildcards without an own certificate) keep being served over HTTP. The app ' +
    'receives `X-Forwarded-Proto: https` for requests that came over HTTPS.',
  aliases: { redirects: 'redirect', force: 'redirect', force_https: 'redirect', strict_transport_security: 'hsts' },
  fields: {
    redirect: s.boolean({
      doc: 'Plain HTTP requests to a host that has a certificate get a 308 redirect to its https:// URL.',
      example: true,
      default: true,
    }),
    hsts,
  },
});

export type HttpsSpec = Infer<typeof https>;

/** The Strict-Transport-Security header value for `hsts`, or null for none. */
export function hstsHeader(spec: HstsSpec | undefined): string | null {
  if (!spec) return null;
  const parts = [`max-age=${Math.floor(spec.maxAgeMs / 1000)}`];
  if (spec.includeSubdomains) parts.push('includeSubDomains');
  if (spec.preload) parts.push('preload');
  return parts.join('; ');
}
