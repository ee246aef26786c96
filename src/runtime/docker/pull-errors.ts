/**
 * The engine's pull failures as catalogue errors (pure). The engine answers a pull it cannot do with a
 * message, either as the answer (404 for what the registry does not have, 500 for the rest) or inside the
 * progress stream once it has begun: the message names what went wrong in Go's words (`dial tcp ...:
 * connect: connection refused`, `manifest for x not found: manifest unknown`). Each kind gets its own
 * code, so a user reads "registry unreachable" instead of Go's error chain, and never "internal error".
 * The same messages end a build whose FROM image cannot be pulled (baseImageError).
 *
 * The texts these patterns were written from, captured from Docker Engine 20.10 against a real
 * Distribution registry, are in ./pull-errors.test.ts.
 */
import { fail, type BerthError } from '../../errors/catalogue.ts';
import { registryOf } from '../../lib/image-reference.ts';

export interface PullContext {
  /** The image as asked for. */
  reference: string;
  /** Its registry host (../../lib/image-reference.ts: registryOf). */
  registry: string;
  /** Whether credentials went with the pull (X-Registry-Auth). */
  authenticated: boolean;
}

/** Longest engine message quoted in an error: the rest of it is the registry's text, which berth does not trust. */
const QUOTE_MAX = 300;

type Rule = { test: RegExp; error: (ctx: PullContext, quoted: string) => BerthError };

const UNREACHABLE: [RegExp, string][] = [
  [/connect: connection refused/i, 'the connection was refused (is the registry running, on that port?)'],
  [/no such host|server misbehaving|Temporary failure in name resolution/i, 'its name does not resolve (DNS)'],
  [/network is unreachable|no route to host/i, 'there is no route to it from the server'],
  [/Client\.Timeout exceeded|i\/o timeout|TLS handshake timeout|context deadline exceeded/i, 'it did not answer in time'],
  [/server gave HTTP response to HTTPS client/i, 'it speaks plain HTTP, and the engine uses HTTPS for every registry outside 127.0.0.0/8 unless dockerd lists it in insecure-registries'],
  [/connection reset by peer|unexpected EOF|broken pipe|use of closed network connection/i, 'the connection dropped'],
];

const RULES: Rule[] = [
  { test: /no space left on device/i, error: (ctx) => fail('DISK_FULL', { what: `pulling ${ctx.reference} (no space left on device)` }) },
  {
    test: /invalid reference format/i,
    error: (ctx, quoted) =>
      fail('IMAGE_REFERENCE_INVALID', {
        reference: ctx.reference,
        reason: quoted.replace(/^.*invalid reference format:?\s*/i, '') || 'the engine refused it',
        fix: 'write it as the registry does: lowercase name, `name:tag` or `name@sha256:<digest>`, such as redis:7',
      }),
  },
  { test: /manifest unknown|manifest for \S+ not found/i, error: (ctx) => notFound(ctx, 'the registry has no such repository or tag') },
  { test: /name unknown|repository \S+ not found/i, error: (ctx) => notFound(ctx, 'the registry has no such repository') },
  {
    test: /pull access denied/i,
    error: (ctx) => notFound(ctx, ctx.authenticated ? 'no such repository, or the user berth logs in with may not pull it' : 'no such repository, or it is private and needs a login'),
  },
  { test: /no matching manifest for/i, error: (ctx, quoted) => notFound(ctx, `it is not built for this server's platform (${quoted})`) },
  {
    test: /no basic auth credentials|unauthorized|authentication required|incorrect username or password|denied:|401 Unauthorized|403 Forbidden/i,
    error: (ctx, quoted) =>
      fail('REGISTRY_AUTH_FAILED', {
        registry: ctx.registry,
        reference: ctx.reference,
        reason: ctx.authenticated ? `the credentials were refused (${quoted})` : 'it needs a login, and berth has no credentials for this registry',
      }),
  },
  {
    test: /x509:|certificate (?:signed by unknown authority|is not valid|has expired)|tls: /i,
    error: (ctx, quoted) => fail('REGISTRY_UNREACHABLE', { registry: ctx.registry, reference: ctx.reference, reason: `its TLS certificate is not trusted (${quoted})`, tls: true }),
  },
  ...UNREACHABLE.map(([test, reason]): Rule => ({ test, error: (ctx) => fail('REGISTRY_UNREACHABLE', { registry: ctx.registry, reference: ctx.reference, reason }) })),
  {
    test: /toomanyrequests|rate limit/i,
    error: (ctx, quoted) => fail('PULL_FAILED', { reference: ctx.reference, reason: `${ctx.registry} refuses more pulls for now (its rate limit; a login raises it): ${quoted}` }),
  },
  {
    test: /received unexpected HTTP status: 5\d\d|50[0-4] (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)/i,
    error: (ctx, quoted) => fail('REGISTRY_ERROR', { registry: ctx.registry, reference: ctx.reference, reason: quoted }),
  },
];

/**
 * The catalogue error for an engine message about a pull. `status` is the engine's HTTP answer (0 for a
 * message that came inside the stream): an unrecognised 404 is still "not found".
 */
export function pullError(message: string, status: number, ctx: PullContext): BerthError {
  const quoted = quote(message);
  for (const rule of RULES) if (rule.test.test(message)) return rule.error(ctx, quoted);
  if (status === 404) return notFound(ctx, quoted);
  return fail('PULL_FAILED', { reference: ctx.reference, reason: quoted || 'the engine gave no reason' });
}

/**
 * A build that failed on a FROM step because the engine could not pull its image: that pull's error
 * (the registry is unreachable, the image was not found, ...), instead of "build failed: Get
 * https://registry-1.docker.io/v2/: ...". `step` is the build's last `Step n/m : ...` line; any other
 * failure is undefined (a build failure as before).
 */
export function baseImageError(message: string, step: string | undefined): BerthError | undefined {
  const written = fromImage(step);
  if (!written) return undefined;
  // The step line shows the FROM as written (`node:${VERSION}`); the engine's message may name the image it meant.
  const image = written.includes('$') ? (referenceIn(message) ?? written) : written;
  const registry = written.includes('$') && image === written ? (registryIn(message) ?? registryOf(image)) : registryOf(image);
  const error = pullError(message, 0, { reference: image, registry, authenticated: false });
  return error.code === 'PULL_FAILED' ? undefined : error;
}

/** The image a pull failure names: `manifest for X not found`, `pull access denied for X,`, `repository X not found`. */
function referenceIn(message: string): string | undefined {
  return /(?:manifest for|pull access denied for|repository) (\S+?),? (?:not found|repository does not exist)/.exec(message)?.[1];
}

/** The registry of `Get "https://ghcr.io/v2/": ...` (Docker Hub's `registry-1.docker.io` is docker.io). */
function registryIn(message: string): string | undefined {
  const host = /"https?:\/\/([^/"]+)\/v2\//.exec(message)?.[1];
  return host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The image of `Step 1/5 : FROM --platform=linux/amd64 node:24-slim AS deps`; undefined for any other step. */
export function fromImage(step: string | undefined): string | undefined {
  const match = /^Step \d+\/\d+ : FROM\s+(.+)$/i.exec(step?.trim() ?? '');
  if (!match) return undefined;
  return match[1].split(/\s+/).find((word) => !word.startsWith('--'));
}

function notFound(ctx: PullContext, reason: string): BerthError {
  return fail('IMAGE_NOT_FOUND', { registry: ctx.registry, reference: ctx.reference, reason });
}

/** The engine's message, one line, without control characters, bounded. */
function quote(message: string): string {
  const line = message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX)}...` : line;
}
