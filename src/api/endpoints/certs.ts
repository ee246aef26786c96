import { addOwnCertificate, getCertificate, listCertificates, removeCertificate, renewCertificate, type CertificatesContext } from '../../deploy/certificates.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { certificateDetailView, certificateView } from '../views.ts';

/**
 * Certificates (`berth certs`): ACME's and the user's own. `:domain` is the hostname, percent-encoded
 * (`*.example.com` as it is or as `%2A.example.com`). A key comes in with POST and never goes out: not in
 * an answer, not sealed, not in an error.
 */
export function certRoutes(router: Router, deps: ApiDeps): void {
  const ctx = (): CertificatesContext => ({ ...deps.ctx, ...(deps.certificates ? { certificates: deps.certificates } : {}) });

  router.on(operations.listCerts, ({ res }) => {
    answer(res, 'listCerts', 200, { certificates: listCertificates(ctx()).map((cert) => certificateView(deps, cert)) });
  });

  router.on(operations.addCert, ({ res, body }) => {
    const { certificate, replaced } = addOwnCertificate(ctx(), { domain: body.domain, cert: body.cert, key: body.key });
    answer(res, 'addCert', replaced ? 200 : 201, { certificate: certificateView(deps, certificate), replaced });
  });

  router.on(operations.getCert, ({ res, params }) => {
    answer(res, 'getCert', 200, certificateDetailView(deps, getCertificate(ctx(), params.domain)));
  });

  router.on(operations.removeCert, ({ res, params }) => {
    const { domain, source, listedBy, acme } = removeCertificate(ctx(), params.domain);
    answer(res, 'removeCert', 200, { removed: domain, source, listedBy, acme });
  });

  router.on(operations.renewCert, ({ res, params }) => {
    answer(res, 'renewCert', 202, certificateView(deps, renewCertificate(ctx(), params.domain)));
  });
}
