import { rm } from 'node:fs/promises';
import { fail } from '../errors/catalogue.ts';
import type { OffThreadParser } from '../manifest/parse-off-thread.ts';
import type { Manifest } from '../manifest/schema.ts';
import { readUploadedManifest } from '../manifest/upload-manifest.ts';
import type { DeploymentRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { checkDomains } from './domains.ts';
import { checkAppPolicies } from './policy-step.ts';
import type { DeployOptions } from './deploy-options.ts';

/**
 * DEPLOY_IN_PROGRESS while the app has a deployment running or queued, unless the caller will wait
 * behind it. Checked before an upload is read, so a refused one costs nothing; the deployer checks
 * again when it records the deployment.
 */
export function checkNotDeploying(ctx: Pick<DeployContext, 'store'>, app: string, wait: boolean): void {
  const holding = ctx.store.deployments.holding(app);
  if (holding && !wait) throw fail('DEPLOY_IN_PROGRESS', { app, deployment: holding.id, state: holding.state });
}

export interface FolderDeploy {
  app: string;
  /** An unpacked upload (without `.env*` and `.git`); the deployment takes it over. */
  dir: string;
  /** Queue behind a running deployment of the app instead of refusing. */
  wait: boolean;
  /** The release's description (`deploy` when the client gave none). */
  description: string;
  /** `--strategy`, `--skip-checks`. */
  options?: DeployOptions;
  /** The commit deployed, already checked to look like one. */
  gitSha?: string;
}

/**
 * `berth deploy`, once its folder is on the server: reads its berth.yaml (off the main thread, so a
 * hostile one cannot stall the daemon), checks that no other app serves one of its hostnames, and starts
 * the deployment; the app is created on its first deploy. A refused folder is removed, so a refusal
 * leaves no app, no deployment and no files behind.
 */
export async function deployFolder(ctx: DeployContext, deployer: Pick<Deployer, 'start'>, parser: OffThreadParser, input: FolderDeploy): Promise<DeploymentRecord> {
  const { app, dir, wait, description, gitSha } = input;
  let manifest: Manifest;
  try {
    manifest = await readUploadedManifest(dir, parser);
    // `image:` runs a prebuilt image: refused here, before anything is recorded, where no engine can run it.
    if (manifest.image !== undefined && !ctx.driver.images) throw fail('IMAGE_NEEDS_DOCKER', { app });
    checkDomains(ctx, app, manifest);
    await checkAppPolicies(ctx, manifest);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return deployer.start({ app, kind: 'deploy', description, wait, ...(input.options ? { options: input.options } : {}), source: { dir, manifest, ...(gitSha ? { gitSha } : {}) } });
}
