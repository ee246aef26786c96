import type { Deployer } from '../../deploy/deployer.ts';
import type { ApiDeps } from '../deps.ts';
import { runOutsideRequestScope } from '../request-scope.ts';

/**
 * The deployer as a use case called by a request sees it: a deployment outlives the request, so its
 * work is not the request's (../request-scope.ts) and its later errors are never taken for the request's.
 */
export function detachedDeployer(deps: ApiDeps): Pick<Deployer, 'start'> {
  return { start: (request) => runOutsideRequestScope(() => deps.deployer.start(request)) };
}
