/**
 * The Registry HTTP API v2 client (https://distribution.github.io/distribution/spec/api/), without
 * pulling: the digest a tag points at (HEAD the manifest, GET when HEAD gives no digest) and a login
 * check. Auth as the engine does it: a 401 names a Bearer token service (Docker Hub, GHCR) or Basic;
 * tokens are fetched with the credentials as Basic and cached until they expire.
 *
 * Every answer is untrusted: each request has a deadline, bodies are capped, the digest is checked, a
 * token service must be HTTPS (plain HTTP only from a loopback registry to a loopback service), nothing
 * the registry says beyond a status and an error code reaches a message. Credentials go only to the
 * registry and the token service it names, and never into an error.
 */
import { createHash } from 'node:crypto';
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { parseChallenges, parseTokenAnswer, type Challenge } from './challenge.ts';
import { apiHost, isLoopbackRegistry } from './hosts.ts';
import { HttpFailure, RegistryHttp, type HttpAnswer } from './http.ts';
import type { RegistryCallOptions, RegistryCredentials, RegistryPort, ResolvedImage } from './port.ts';
import { digestProblem, familiarReference, manifestKey, type ImageReference } from '../lib/image-reference.ts';
import { pinReference } from './reference.ts';

/** What berth accepts, best first: the index of a multi-platform image, else a single manifest (OCI, Docker v2). */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** distribution's own cap on a manifest. */
const MANIFEST_MAX = 4 * 1024 * 1024;
const TOKEN_ANSWER_MAX = 1024 * 1024;
const ERROR_ANSWER_MAX = 64 * 1024;
/** Remembered challenges and tokens, oldest dropped first. */
const CACHE_MAX = 512;
/** A token is used until this long before the service says it expires. */
const EXPIRY_MARGIN_MS = 10_000;

export interface RegistryClientOptions {
  /** Deadline of each HTTP exchange (connect, headers, body), in ms. Default 15 s. */
  timeoutMs?: number;
  /** Clock for the token cache (ms). */
  now?: () => number;
  /** Certificates trusted besides the system store and NODE_EXTRA_CA_CERTS. */
  ca?: string[];
  /** Registries spoken to in plain HTTP. Default: loopback ones, as the engine does (`isLoopbackRegistry`). */
  plainHttp?: (domain: string) => boolean;
}

interface Where {
  registry: string;
  reference?: string;
}

interface Exchange {
  where: Where;
  method: 'GET' | 'HEAD';
  url: URL;
  accept?: string;
  /** `repository:<path>:pull`; undefined for a login check. */
  scope: string | undefined;
  credentials: RegistryCredentials | undefined;
  signal: AbortSignal | undefined;
  maxBody: number;
  /** Fetch a new token even when one is cached (a login check). */
  fresh?: boolean;
}

export class RegistryClient implements RegistryPort {
  readonly #http: RegistryHttp;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #plainHttp: (domain: string) => boolean;
  /** The last challenge each registry origin answered with, so later requests authenticate at once. */
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(options: RegistryClientOptions = {}) {
    this.#http = new RegistryHttp({ ca: options.ca });
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#now = options.now ?? Date.now;
    this.#plainHttp = options.plainHttp ?? isLoopbackRegistry;
  }

  async resolveDigest(ref: ImageReference, options: RegistryCallOptions = {}): Promise<ResolvedImage> {
    const where: Where = { registry: ref.domain, reference: familiarReference(ref) };
    const common = {
      where,
      url: new URL(`${this.#base(ref.domain)}/v2/${ref.path}/manifests/${manifestKey(ref)}`),
      accept: MANIFEST_MEDIA_TYPES.join(', '),
      scope: `repository:${ref.path}:pull`,
      credentials: options.credentials,
      signal: options.signal,
    };
    const head = await this.#exchange({ ...common, method: 'HEAD', maxBody: 0 });
    if (head.status === 404) throw await this.#notFound(ref, common);
    if (isSuccess(head.status)) {
      const digest = statedDigest(head, where);
      if (digest) return resolved(ref, where, digest, mediaType(head));
      // No Docker-Content-Digest on HEAD (it is optional in the OCI spec): GET the manifest and hash it.
    } else if (head.status !== 405 && head.status !== 501) {
      throw statusError(where, head, common.credentials !== undefined);
    }
    const get = await this.#exchange({ ...common, method: 'GET', maxBody: MANIFEST_MAX });
    if (get.status === 404) throw notFoundError(ref, where, get.body);
    if (!isSuccess(get.status)) throw statusError(where, get, common.credentials !== undefined);
    const computed = `sha256:${createHash('sha256').update(get.body).digest('hex')}`;
    const stated = statedDigest(get, where);
    if (stated?.startsWith('sha256:') && stated !== computed) {
      throw fail('REGISTRY_ERROR', { ...where, reason: `the manifest it sent does not match the digest it states (${stated})` });
    }
    return resolved(ref, where, stated ?? computed, mediaType(get));
  }

  async verify(domain: string, credentials: RegistryCredentials, options: { signal?: AbortSignal } = {}): Promise<void> {
    const where: Where = { registry: domain };
    const answer = await this.#exchange({
      where,
      method: 'GET',
      url: new URL(`${this.#base(domain)}/v2/`),
      scope: undefined,
      credentials,
      signal: options.signal,
      maxBody: ERROR_ANSWER_MAX,
      fresh: true,
    });
    if (isSuccess(answer.status)) return;
    if (answer.status === 404) throw fail('REGISTRY_ERROR', { ...where, reason: 'it has no /v2/ endpoint: it is not a Docker/OCI registry' });
    throw statusError(where, answer, true);
  }

  /** Closes idle connections (tests, shutdown); the client still works afterwards. */
  close(): void {
    this.#http.close();
  }

  #base(domain: string): string {
    return `${this.#plainHttp(domain) ? 'http' : 'https'}://${apiHost(domain)}`;
  }

  /** One request through the auth flow: with what the registry asked for last time, and again after a 401. */
  async #exchange(exchange: Exchange): Promise<HttpAnswer> {
    const origin = exchange.url.origin;
    const known = this.#challenges.get(origin);
    let first: string | undefined;
    if (known) {
      try {
        first = await this.#authorization(known, exchange, exchange.fresh === true);
      } catch (error) {
        // The token service it named last time answers nonsense (or is no longer acceptable): ask the
        // registry again, it may name another one. A refused password or a service that is down is final.
        if (!isBerthError(error) || error.code !== 'REGISTRY_ERROR') throw error;
        this.#challenges.delete(origin);
      }
    }
    const answer = await this.#send(exchange, first);
    if (answer.status !== 401) return answer;

    const challenge = pickChallenge(parseChallenges(answer.headers['www-authenticate']));
    if (!challenge) throw fail('REGISTRY_ERROR', { ...exchange.where, reason: 'it answered 401 without a Bearer or Basic challenge (WWW-Authenticate)' });
    remember(this.#challenges, origin, challenge);
    if (challenge.scheme === 'basic' && !exchange.credentials) throw authFailed(exchange, 'it needs a login');
    // After a 401 a cached token is stale (revoked, or the scope changed): always a new one.
    const retry = await this.#send(exchange, await this.#authorization(challenge, exchange, true));
    if (retry.status !== 401) return retry;
    if (!exchange.credentials) throw authFailed(exchange, 'it needs a login (or the repository does not exist)');
    throw authFailed(
      exchange,
      challenge.scheme === 'basic' || exchange.scope === undefined ? 'the user name or password is wrong' : `the user ${exchange.credentials.username} may not pull it (or the repository does not exist)`,
    );
  }

  async #send(exchange: Exchange, authorization: string | undefined): Promise<HttpAnswer> {
    const headers: Record<string, string> = { 'user-agent': 'berth' };
    if (exchange.accept) headers.accept = exchange.accept;
    if (authorization) headers.authorization = authorization;
    return this.#request(exchange.where, { method: exchange.method, url: exchange.url, headers, maxBody: exchange.maxBody, signal: exchange.signal });
  }

  async #request(where: Where, spec: { method: 'GET' | 'HEAD'; url: URL; headers: Record<string, string>; maxBody: number; signal: AbortSignal | undefined }, service?: string): Promise<HttpAnswer> {
    try {
      return await this.#http.request({ ...spec, timeoutMs: this.#timeoutMs });
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      const reason = service ? `its token service ${service}: ${error.message}` : error.message;
      if (error.kind === 'too-large' || error.kind === 'protocol') throw fail('REGISTRY_ERROR', { ...where, reason }).because(error);
      throw fail('REGISTRY_UNREACHABLE', { ...where, reason, tls: error.kind === 'tls' }).because(error);
    }
  }

  async #authorization(challenge: Challenge, exchange: Exchange, fresh: boolean): Promise<string | undefined> {
    const { credentials } = exchange;
    if (challenge.scheme === 'basic') return credentials ? basic(credentials) : undefined;
    return `Bearer ${await this.#token(challenge, exchange, fresh)}`;
  }

  /** A token for the exchange's scope from the challenge's service: cached, or fetched with the credentials as Basic. */
  async #token(challenge: Challenge, exchange: Exchange, fresh: boolean): Promise<string> {
    const realm = this.#realm(challenge, exchange);
    const service = challenge.params.service;
    const { credentials, scope } = exchange;
    const identity = credentials ? `${credentials.username}\n${createHash('sha256').update(credentials.password).digest('hex')}` : '';
    const key = [realm.href, service ?? '', scope ?? '', identity].join('\n');
    const cached = this.#tokens.get(key);
    if (!fresh && cached && cached.expiresAt > this.#now()) return cached.token;

    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    if (scope) url.searchParams.append('scope', scope);
    if (credentials) url.searchParams.set('account', credentials.username);
    const headers: Record<string, string> = { 'user-agent': 'berth', accept: 'application/json' };
    if (credentials) headers.authorization = basic(credentials);
    const answer = await this.#request(exchange.where, { method: 'GET', url, headers, maxBody: TOKEN_ANSWER_MAX, signal: exchange.signal }, url.host);
    if (answer.status === 401 || answer.status === 403) {
      throw authFailed(exchange, credentials ? 'the user name or password is wrong (its token service refused them)' : 'its token service refused anonymous access: it needs a login');
    }
    if (!isSuccess(answer.status)) throw fail('REGISTRY_ERROR', { ...exchange.where, reason: `its token service ${url.host} answered ${describeStatus(answer.status)}` });
    let parsed;
    try {
      parsed = parseTokenAnswer(answer.body.toString('utf8'));
    } catch (error) {
      throw fail('REGISTRY_ERROR', { ...exchange.where, reason: (error as Error).message });
    }
    remember(this.#tokens, key, { token: parsed.token, expiresAt: this.#now() + parsed.expiresIn * 1000 - EXPIRY_MARGIN_MS });
    return parsed.token;
  }

  /** The token service's address, refused unless HTTPS (or loopback from a loopback registry): credentials go there. */
  #realm(challenge: Challenge, exchange: Exchange): URL {
    const refuse = (reason: string) => fail('REGISTRY_ERROR', { ...exchange.where, reason });
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      throw refuse('its Bearer challenge has no valid token service address (realm)');
    }
    if (realm.username || realm.password) throw refuse('its token service address carries a user name');
    if (realm.protocol === 'https:') return realm;
    const fromPlainLoopback = exchange.url.protocol === 'http:' && isLoopbackRegistry(exchange.url.host);
    if (realm.protocol === 'http:' && fromPlainLoopback && isLoopbackRegistry(realm.host)) return realm;
    throw refuse(`its token service ${realm.protocol}//${realm.host} is not HTTPS: berth sends credentials only over HTTPS (or between loopback addresses)`);
  }

  async #notFound(ref: ImageReference, common: Omit<Exchange, 'method' | 'maxBody'>): Promise<BerthError> {
    // HEAD has no body; a GET says whether the repository or the tag is unknown.
    const answer = await this.#exchange({ ...common, method: 'GET', maxBody: ERROR_ANSWER_MAX }).catch(() => undefined);
    return notFoundError(ref, common.where, answer?.status === 404 ? answer.body : Buffer.alloc(0));
  }
}

const isSuccess = (status: number) => status >= 200 && status < 300;

const basic = (credentials: RegistryCredentials) => `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;

function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > CACHE_MAX) map.delete(map.keys().next().value!);
}

function authFailed(exchange: Pick<Exchange, 'where'>, reason: string): BerthError {
  return fail('REGISTRY_AUTH_FAILED', { ...exchange.where, reason });
}

/** The Docker-Content-Digest header, checked; undefined when absent. */
function statedDigest(answer: HttpAnswer, where: Where): string | undefined {
  const header = answer.headers['docker-content-digest'];
  if (header === undefined || header === '') return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  const problem = digestProblem(value);
  if (problem) throw fail('REGISTRY_ERROR', { ...where, reason: `its Docker-Content-Digest header is not a digest: ${problem}` });
  return value;
}

function mediaType(answer: HttpAnswer): string | undefined {
  const type = answer.headers['content-type']?.split(';')[0].trim();
  return type && type.length <= 200 ? type : undefined;
}

function resolved(ref: ImageReference, where: Where, digest: string, type: string | undefined): ResolvedImage {
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw fail('REGISTRY_ERROR', { ...where, reason: `asked for ${ref.digest}, it answered with ${digest}` });
  }
  return { digest, mediaType: type, pinned: pinReference(ref, digest) };
}

function notFoundError(ref: ImageReference, where: Where, body: Buffer): BerthError {
  const codes = errorCodes(body);
  const missing = ref.digest !== undefined ? `the manifest ${ref.digest}` : `the tag ${ref.tag}`;
  const reason = codes.includes('NAME_UNKNOWN')
    ? `the repository ${ref.path} does not exist`
    : codes.includes('MANIFEST_UNKNOWN')
      ? `the repository ${ref.path} has no ${missing.replace(/^the /, '')}`
      : `no ${missing.replace(/^the /, '')} in ${ref.path} (or no such repository)`;
  return fail('IMAGE_NOT_FOUND', { ...where, reason, reference: where.reference ?? ref.path });
}

/** The `errors[].code` values of a registry's JSON error body; [] when it is not one. */
function errorCodes(body: Buffer): string[] {
  try {
    const json = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
    return Array.isArray(json.errors) ? json.errors.map((e) => (typeof e?.code === 'string' ? e.code : '')).filter(Boolean) : [];
  } catch {
    return [];
  }
}

function statusError(where: Where, answer: HttpAnswer, withCredentials: boolean): BerthError {
  const { status } = answer;
  if (status === 401 || status === 403) {
    return fail('REGISTRY_AUTH_FAILED', { ...where, reason: withCredentials ? `access denied (${describeStatus(status)})` : `it needs a login (${describeStatus(status)})` });
  }
  if (status === 429) {
    const after = Number(answer.headers['retry-after']);
    return fail('REGISTRY_ERROR', { ...where, reason: `too many requests from this server (429)${Number.isFinite(after) && after > 0 ? `; it asks to wait ${Math.min(after, 86400)} s` : ''}` });
  }
  if (status === 502 || status === 503 || status === 504) {
    return fail('REGISTRY_UNREACHABLE', { ...where, reason: `it answered ${describeStatus(status)}: it is down or overloaded` });
  }
  return fail('REGISTRY_ERROR', { ...where, reason: `it answered ${describeStatus(status)}` });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const describeStatus = (status: number) => `HTTP ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
