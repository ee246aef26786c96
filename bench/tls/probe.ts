/**
 * Before any load: each proxy must serve the upstream's `hello world` over HTTPS and over h2 with a
 * certificate that verifies against the run's root for `bench.localhost` (benchmarking a 404 page or a
 * handshake failure would prove nothing), and we find out whether it resumes TLS sessions, which decides
 * what the "resumed handshake" row measures. Clients here verify; the load generators do not.
 */
import { connect as http2Connect } from 'node:http2';
import { Agent, request } from 'node:https';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';

export interface ProbeTarget {
  label: string;
  port: number;
}

const TIMEOUT_MS = 5000;
const EXPECTED = 'hello world\n';

function httpsGet(port: number, host: string, ca: string): Promise<{ status: number; body: string; alpn: string | false }> {
  // Offer ALPN as browsers do (node:https offers none by default): the proxy must pick http/1.1.
  const agent = new Agent({ ALPNProtocols: ['http/1.1'], keepAlive: false });
  return new Promise<{ status: number; body: string; alpn: string | false }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: host, ca, headers: { host }, path: '/', agent, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol ?? false }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTPS answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  }).finally(() => agent.destroy());
}

function h2Get(port: number, host: string, ca: string): Promise<{ status: number; body: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://${host}:${port}`, { host: '127.0.0.1', servername: host, ca });
    const timer = setTimeout(() => session.destroy(new Error(`no h2 answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(error);
    };
    session.on('error', fail);
    const stream = session.request({ ':path': '/', ':authority': host });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (c: string) => (body += c));
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      const alpn = session.alpnProtocol ?? false;
      session.close();
      resolve({ status, body, alpn });
    });
  });
}

/** Both protocols answer hello world with a verified certificate, or this throws saying what came back. */
export async function probeTls(target: ProbeTarget, host: string, ca: string): Promise<void> {
  const h1 = await httpsGet(target.port, host, ca).catch((error: Error) => {
    throw new Error(`${target.label} over HTTPS (HTTP/1.1): ${error.message}`);
  });
  if (h1.status !== 200 || h1.body !== EXPECTED || h1.alpn !== 'http/1.1') {
    throw new Error(`${target.label} over HTTPS answered ${h1.status} ${JSON.stringify(h1.body.slice(0, 200))} with ALPN ${h1.alpn} instead of the upstream's hello world over http/1.1`);
  }
  const h2 = await h2Get(target.port, host, ca).catch((error: Error) => {
    throw new Error(`${target.label} over h2: ${error.message}`);
  });
  if (h2.status !== 200 || h2.body !== EXPECTED || h2.alpn !== 'h2') {
    throw new Error(`${target.label} over h2 answered ${h2.status} ${JSON.stringify(h2.body.slice(0, 200))} with ALPN ${h2.alpn} instead of the upstream's hello world over h2`);
  }
}

/** One TLS connection; resolves with the session it ended with, the ticket it received if any, and whether it resumed. */
function handshake(port: number, host: string, ca: string, version: SecureVersion, session?: Buffer): Promise<{ session?: Buffer; ticket?: Buffer; reused: boolean }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reused: boolean | undefined;
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: host, ca, minVersion: version, maxVersion: version, session, ALPNProtocols: ['http/1.1'] });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    socket.on('session', (s: Buffer) => (ticket = s));
    // After the handshake, how the server closes (a reset after Connection: close, say) does not matter here.
    socket.on('error', (error) => {
      if (reused === undefined) {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      // TLS 1.3 tickets arrive after the handshake, with the first data: ask for something and read it all.
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      socket.resume();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (reused !== undefined) resolve({ session: ticket ?? socket.getSession(), ticket, reused });
    });
  });
}

export interface Resumption {
  /** A second connection offering the first one's session resumed it. */
  resumes: boolean;
  /**
   * TLS 1.3 only: a third connection offering the ticket the resumed second one received resumed too.
   * The server hands out a new ticket on resumption, so a client that reconnects again and again, as wrk
   * does, resumes every time rather than every other time.
   */
  again?: boolean;
}

/** Whether connections offering the previous connection's session are resumed, per TLS version. */
export async function resumption(port: number, host: string, ca: string): Promise<Record<'TLSv1.3' | 'TLSv1.2', Resumption>> {
  const check = async (version: 'TLSv1.3' | 'TLSv1.2'): Promise<Resumption> => {
    const first = await handshake(port, host, ca, version);
    const second = first.session ? await handshake(port, host, ca, version, first.session) : undefined;
    if (!second?.reused) return { resumes: false };
    if (version !== 'TLSv1.3') return { resumes: true };
    return { resumes: true, again: second.ticket ? (await handshake(port, host, ca, version, second.ticket)).reused : false };
  };
  return { 'TLSv1.3': await check('TLSv1.3'), 'TLSv1.2': await check('TLSv1.2') };
}
