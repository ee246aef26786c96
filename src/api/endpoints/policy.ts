import { checkPolicies, listPolicies } from '../../deploy/policies.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

/** `GET /v1/policies` (`berth policy list`) and `GET /v1/apps/:app/policy-check` (`berth policy check`). */
export function policyRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.listPolicies, async ({ res, query }) => {
    const listing = await listPolicies(deps.ctx, query.app);
    answer(res, 'listPolicies', 200, {
      app: listing.app,
      policies: listing.policies.map(({ policy, scope }) => ({ name: policy.name, when: policy.when, expr: policy.expr, message: policy.message, scope, source: policy.source })),
      problems: listing.problems,
    });
  });
  router.on(operations.checkPolicies, async ({ res, params: { app } }) => {
    const check = await checkPolicies(deps.ctx, app);
    answer(res, 'checkPolicies', 200, {
      ...check,
      verdicts: check.verdicts.map((v) => ({ policy: v.policy, when: v.when, allowed: v.allowed, reason: v.reason, source: v.source, facts: v.facts })),
    });
  });
}
