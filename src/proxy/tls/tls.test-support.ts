import { request as httpsRequest, type Agent } from 'node:https';
import { connect, type ConnectionOptions } from 'node:tls';
import type { Reply } from '../../../test/support/http.ts';

export interface Handshake {
  ok: true;
  /** SHA-256 fingerprint of the certificate the server sent. */
  fingerprint256: string;
  protocol: string | null;
  alpn: string | false;
  cipher: string;
  reused: boolean;
  /** The session to resume with (arrives after the handshake in TLS 1.3). */
  session: Buffer | undefined;
}

export interface Refused {
  ok: false;
  /** The client's error code, such as ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE (an alert from the server). */
  code: string;
}

/**
 * One TLS handshake to 127.0.0.1 (an SNI name only when `servername` is given), then a clean close. What
 * the handshake gave is read at `secureConnect`: node crashes when a closed socket is asked its protocol.
 */
export function handshake(port: number, options: ConnectionOptions): Promise<Handshake | Refused> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', ...options });
    let result: Handshake | undefined;
    socket.once('secureConnect', () => {
      result = {
        ok: true,
        fingerprint256: socket.getPeerCertificate().fingerprint256,
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol ?? false,
        cipher: socket.getCipher().name,
        reused: socket.isSessionReused(),
        session: undefined,
      };
      // TLS 1.3 sends its tickets just after the handshake: give them a moment before closing.
      setTimeout(() => socket.end(), 30);
    });
    socket.on('session', (session: Buffer) => {
      if (result) result.session = session;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
    socket.on('close', () => resolve(result ?? { ok: false, code: 'closed' }));
    socket.resume(); // whatever the server sends first (HTTP/2 SETTINGS) is read, so the close is seen
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
  });
}

export interface TlsRequestOptions {
  port: number;
  /** SNI name and Host header. */
  host: string;
  ca: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: Agent | false;
}

/** An HTTPS/1.1 request (no ALPN offered) to 127.0.0.1 with SNI `host`, checked against `ca`; also says which certificate came. */
export function tlsRequest(options: TlsRequestOptions): Promise<Reply & { fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: options.port,
        servername: options.host,
        ca: options.ca,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: { host: options.host, ...options.headers },
        agent: options.agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        const fingerprint256 = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), fingerprint256 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
