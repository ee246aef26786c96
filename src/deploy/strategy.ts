import type { DeploymentRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { strategyOf, type DeployOptions, type Strategy } from './deploy-options.ts';

/**
 * The strategy a deployment runs with: `--strategy`, else the release's `deploy.strategy`, except where only
 * blue-green makes sense: nothing serves yet (an app's first deploy has nothing to roll over or to
 * compare a canary with), or a rollback to a release kept warm (its instances run already: the switch is
 * immediate, whatever the strategy).
 */
export function deploymentStrategy(ctx: Pick<DeployContext, 'store'>, deployment: DeploymentRecord, release: ReleaseRecord, options: DeployOptions | undefined, warm: InstanceRecord[]): Strategy {
  const current = ctx.store.apps.get(deployment.app)?.currentRelease ?? null;
  if (current === null || current === release.id || warm.length > 0) return 'blue-green';
  return strategyOf(release.manifest, options);
}
