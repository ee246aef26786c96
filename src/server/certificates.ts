/**
 * Wires the certificate manager (src/certs/) for the daemon: the ACME CA of the server settings, the
 * pre-flight against this proxy's HTTP listener, the app event log for its events.
 */
import { AcmeAuthority } from '../certs/acme.ts';
import { CertificateManager } from '../certs/manager.ts';
import { createPreflight } from '../certs/preflight.ts';
import type { DataPlane } from '../dataplane/route-table.ts';
import type { DeployContext } from '../deploy/context.ts';
import { reportTo } from '../deploy/emit.ts';
import type { AcmeConfig } from './config.ts';

export function createCertificateManager(input: {
  ctx: DeployContext;
  /** The proxy itself (not the context's wrapper that wakes the manager on every route table). */
  dataPlane: Pick<DataPlane, 'applyCertificates' | 'setChallenges'>;
  acme: AcmeConfig;
  /** The HTTP listener's port: where the CA validates, unless --acme-challenge-port says otherwise. */
  httpPort: number;
}): CertificateManager {
  const { ctx, acme } = input;
  const authority = new AcmeAuthority({ directoryUrl: acme.directoryUrl, email: acme.email, ca: acme.ca, store: ctx.store, sealer: ctx.sealer, clock: ctx.clock, log: ctx.log });
  const challengePort = acme.challengePort ?? input.httpPort;
  return new CertificateManager({
    store: ctx.store,
    sealer: ctx.sealer,
    dataPlane: input.dataPlane,
    authority,
    preflight: createPreflight({ resolver: acme.resolver, challengePort }),
    clock: ctx.clock,
    log: ctx.log,
    report: reportTo(ctx),
    directoryUrl: acme.directoryUrl,
  });
}
