/**
 * Before the CA is asked (each failed validation counts against its rate limits): does the name resolve,
 * and does `http://<name>:<challenge port>/.well-known/acme-challenge/<token>` reach THIS proxy? berth
 * publishes a random probe answer through the data plane and fetches it at each address the name resolves
 * to, with `Host: <name>`, the way the CA will. A port-forward or NAT in between is fine; another server
 * answering, a firewall, or DNS pointing elsewhere is not, and the error says which.
 *
 * `--acme-resolver HOST:PORT` makes the lookup ask that DNS server (the one the CA uses, in tests); else
 * the system's resolver answers, as for any program on this machine.
 */
import { randomBytes } from 'node:crypto';
import { Resolver, lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { isIP } from 'node:net';
import { fail, isBerthError } from '../errors/catalogue.ts';
import { formatHostPort } from '../lib/host-port.ts';

export interface PreflightSettings {
  /** A DNS server to ask instead of the system's resolver. */
  resolver: { host: string; port: number } | null;
  /** The port the CA validates on: the HTTP listener's, unless a port-forward says otherwise. */
  challengePort: number;
  /** Each step: the lookup, and each address's probe. */
  timeoutMs?: number;
}

/** Publishes a challenge answer on the HTTP listener; resolves with the function that takes it down. */
export type PublishChallenge = (token: string, keyAuthorization: string) => Promise<() => Promise<void>>;

export type Preflight = (domain: string, options: { publish: PublishChallenge; signal: AbortSignal }) => Promise<void>;

/** Addresses probed at most: a name with more is judged by its first ones. */
const MAX_ADDRESSES = 4;
/** A probe answer is one line; anything longer is not berth's. */
const MAX_ANSWER_BYTES = 4096;

export function createPreflight(settings: PreflightSettings): Preflight {
  const timeoutMs = settings.timeoutMs ?? 5000;
  return async (domain, { publish, signal }) => {
    const addresses = await resolveName(domain, settings.resolver, timeoutMs, signal);
    const token = randomBytes(32).toString('base64url');
    const answer = `${token}.${randomBytes(32).toString('base64url')}`;
    const remove = await publish(token, answer);
    try {
      const problems: string[] = [];
      for (const address of addresses.slice(0, MAX_ADDRESSES)) {
        const problem = await probe({ address, port: settings.challengePort, domain, token, answer, timeoutMs, signal });
        if (problem) problems.push(problem);
      }
      if (problems.length > 0) throw fail('ACME_UNREACHABLE', { domain, addresses, port: settings.challengePort, reason: problems.join('; ') });
    } finally {
      await remove();
    }
  };
}

/** The name's A and AAAA addresses (IPv4 first); ACME_DNS naming what the resolver said when there are none. */
async function resolveName(domain: string, server: PreflightSettings['resolver'], timeoutMs: number, signal: AbortSignal): Promise<string[]> {
  const resolverText = server ? formatHostPort(server) : null;
  const noAddress = (reason: string) => fail('ACME_DNS', { domain, resolver: resolverText, reason });
  if (server) {
    const resolver = new Resolver({ timeout: Math.min(timeoutMs, 5000), tries: 2 });
    resolver.setServers([resolverText!]);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(domain), resolver.resolve6(domain)]);
      signal.throwIfAborted();
      const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (addresses.length > 0) return addresses;
      throw noAddress(dnsReason(v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined, timeoutMs));
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
  const timer = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  try {
    const found = await Promise.race([
      lookup(domain, { all: true, order: 'ipv4first' }),
      new Promise<never>((_, reject) => timer.addEventListener('abort', () => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), { once: true })),
    ]);
    signal.throwIfAborted();
    if (found.length > 0) return [...new Set(found.map((a) => a.address))];
    throw noAddress('no A or AAAA record');
  } catch (error) {
    signal.throwIfAborted();
    if (isBerthError(error) || (error as { code?: string }).code === undefined) throw error;
    throw noAddress(dnsReason(error, timeoutMs));
  }
}

function dnsReason(error: unknown, timeoutMs: number): string {
  switch ((error as { code?: string } | undefined)?.code) {
    case 'ENOTFOUND':
      return 'no such name (NXDOMAIN)';
    case 'ENODATA':
      return 'it has no A or AAAA record';
    case 'ESERVFAIL':
      return 'the DNS server failed to answer for it (SERVFAIL)';
    case 'EREFUSED':
      return 'the DNS server refused the query';
    case 'ECONNREFUSED':
      return 'the DNS server refused the connection';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return `no answer within ${spell(timeoutMs)}`;
    case 'EAI_AGAIN':
      return 'the resolver could not answer now (EAI_AGAIN)';
    default:
      return error instanceof Error ? error.message.slice(0, 200) : 'no A or AAAA record';
  }
}

/** One address asked for the probe's answer; undefined when it answered exactly that, else what happened instead. */
function probe(input: { address: string; port: number; domain: string; token: string; answer: string; timeoutMs: number; signal: AbortSignal }): Promise<string | undefined> {
  const where = formatHostPort({ host: input.address, port: input.port });
  return new Promise((resolve) => {
    let settled = false;
    const done = (problem: string | undefined) => {
      if (settled) return;
      settled = true;
      resolve(problem);
    };
    const req = request(
      {
        host: input.address,
        family: isIP(input.address),
        port: input.port,
        path: `/.well-known/acme-challenge/${input.token}`,
        headers: { host: input.domain, 'user-agent': 'berth-acme-preflight', connection: 'close' },
        agent: false,
        timeout: input.timeoutMs,
        signal: input.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) return req.destroy(new Error('answer too large'));
          chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8').trim();
          if (res.statusCode === 200 && body === input.answer) return done(undefined);
          done(`${where} answered ${res.statusCode}${res.statusCode === 200 ? ' with something else' : ''}: another server answers there, not this berth`);
        });
        res.on('error', () => done(`${where} broke off its answer`));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => done(connectProblem(where, error, input.timeoutMs)));
    req.end();
  });
}

function connectProblem(where: string, error: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `${where} refused the connection (nothing listens there, or a firewall rejects it)`;
    case 'ETIMEDOUT':
      return `${where} did not answer within ${spell(timeoutMs)} (a firewall dropping it?)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable from this server (${error.code})`;
    case 'ABORT_ERR':
      return `${where}: stopped`;
    default:
      return `${where} failed: ${error.message.slice(0, 200)}`;
  }
}

const spell = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);
