/**
 * The two data-plane calls the certificate manager makes, implemented honestly for its tests: a real HTTP
 * server on 127.0.0.1 answers `GET /.well-known/acme-challenge/<token>` from the last map given to
 * `setChallenges` (for any host, 404 for an unknown token), and `applyCertificates` keeps each set it
 * takes, refusing an older generation or a set the data plane's own check finds wrong, as the proxy does. The proxy's own implementation is tested with the
 * data-plane contract and end to end (test/e2e/https-acme.test.ts).
 */
import { createServer } from 'node:http';
import { InvalidCertificateSetError, StaleRouteTableError, type AcmeChallenges, type CertificateSet, type DataPlane } from '../dataplane/route-table.ts';
import { certificateSetProblems } from '../dataplane/validate-certificates.ts';

export interface ChallengePlane {
  port: number;
  dataPlane: Pick<DataPlane, 'applyCertificates' | 'setChallenges'>;
  /** Every set taken, in order. */
  sets: CertificateSet[];
  /** Every challenge map taken, in order. */
  maps: Map<string, string>[];
  /** Tokens asked for over HTTP. */
  asked: string[];
  close(): Promise<void>;
}

export async function startChallengePlane(): Promise<ChallengePlane> {
  let answers = new Map<string, string>();
  const sets: CertificateSet[] = [];
  const maps: Map<string, string>[] = [];
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    if (token) asked.push(token);
    const answer = token ? answers.get(token) : undefined;
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'no such challenge');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    sets,
    maps,
    asked,
    dataPlane: {
      async applyCertificates(set: CertificateSet) {
        const current = sets.at(-1)?.generation ?? 0;
        if (set.generation < current) throw new StaleRouteTableError(set.generation, current);
        const problems = certificateSetProblems(set);
        if (problems.length > 0) throw new InvalidCertificateSetError(problems);
        sets.push(structuredClone(set));
      },
      async setChallenges(challenges: AcmeChallenges) {
        answers = new Map(Object.entries(challenges));
        maps.push(answers);
      },
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
