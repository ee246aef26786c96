import { openApiDocument } from '../openapi.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

/** GET /v1/openapi.json: this API as an OpenAPI 3.1 document (../openapi.ts), for scripts and generated clients. */
export function openApiRoutes(router: Router): void {
  // Made from the code the server runs, so it cannot change while it runs: made once.
  const document = openApiDocument();
  router.on(operations.openapi, ({ res }) => answer(res, 'openapi', 200, document));
}
