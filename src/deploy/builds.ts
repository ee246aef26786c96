import type { BuildRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';

/**
 * A build's artifact leaves the machine (pruned, undone, its app destroyed). An image berth built goes
 * whole; an image app's pulled image goes only if berth pulled it, no other build still uses it, and no
 * container runs it (the runtime never forces that removal): an image that was on the machine before
 * berth pulled anything is the user's.
 */
export async function freeBuild(ctx: Pick<DeployContext, 'driver' | 'store' | 'clock'>, build: BuildRecord): Promise<void> {
  if (build.image === null) await ctx.driver.removeArtifact(build.artifact);
  else if (build.pulled && !ctx.store.builds.artifactInUse(build.artifact, build.id)) await ctx.driver.images?.release(build.artifact);
  ctx.store.builds.markRemoved(build.id, ctx.clock.now());
}
