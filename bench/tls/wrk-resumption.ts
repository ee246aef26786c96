/**
 * What wrk does about TLS sessions, measured rather than assumed: a one-second `Connection: close` run
 * against a bare node:tls server (in this process, with the run's certificate) that counts the
 * handshakes it sees and how many resumed a session. The resumed-handshake row of the report rests on it.
 */
import { once } from 'node:events';
import { createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { BenchCertificate } from './cert.ts';
import { resumption, type Resumption } from './probe.ts';
import { runHttpsWrk } from './wrk-https.ts';

export interface WrkSessions {
  handshakes: number;
  resumed: number;
  protocol: string;
  /** How the reference server itself resumes, by the same check as the proxies'. */
  server: Resumption;
}

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

export async function wrkSessionReuse(cert: BenchCertificate, dir: string, signal?: AbortSignal): Promise<WrkSessions> {
  const seen = { handshakes: 0, resumed: 0, protocol: '–' };
  const server = createServer({ cert: cert.chainPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, (socket: TLSSocket) => {
    seen.handshakes++;
    if (socket.isSessionReused()) seen.resumed++;
    seen.protocol = socket.getProtocol() ?? '–';
    socket.on('error', () => {});
    // One request per connection: answer at the end of the first head, then close.
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.length > 16 * 1024) return void socket.destroy();
      if (head.includes('\r\n\r\n')) socket.end(RESPONSE);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const check = await resumption(port, cert.host, cert.caPem);
    Object.assign(seen, { handshakes: 0, resumed: 0 });
    await runHttpsWrk({ host: cert.host, port, dir, threads: 1, connections: 1, durationS: 1, headers: ['Connection: close'], signal });
    return { ...seen, server: check['TLSv1.3'] };
  } finally {
    server.close();
  }
}
