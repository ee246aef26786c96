/**
 * Port allocation on 127.0.0.1 by asking the kernel. There is a window between our probe closing and the
 * app binding in which another program could take the port; the app then fails to listen, crashes, and
 * supervision restarts it on a fresh port.
 */
import { createServer } from 'node:net';

function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return (await probe(port)) === port;
}

/** A free port that is not in `avoid` (ports handed to instances that may not have bound them yet). */
export async function allocatePort(avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(0);
    if (port !== null && !avoid.has(port)) return port;
  }
  throw new Error('no free port on 127.0.0.1');
}
