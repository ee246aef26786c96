import { fail } from '../errors/catalogue.ts';
import type { OffThreadParser } from '../manifest/parse-off-thread.ts';
import type { DeploymentRecord } from '../model/records.ts';
import { parseReference } from '../registry/reference.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { checkDomains } from './domains.ts';
import { checkAppPolicies } from './policy-step.ts';
import type { DeployOptions } from './deploy-options.ts';

export interface ImageDeploy {
  app: string;
  /** The image as the user wrote it (`berth deploy --image ghcr.io/acme/web:1.4`). */
  image: string;
  /** The app's berth.yaml, when it has one: its processes, health, services... apply to the image. */
  manifestText?: string;
  wait: boolean;
  options?: DeployOptions;
  description?: string;
}

/**
 * `berth deploy --image REF`: a prebuilt image instead of an uploaded folder. The reference is checked,
 * the berth.yaml text (if any) is read off the main thread with the image in place of its `image:`, and
 * the deployment starts; its build step resolves the image to a digest and pulls it (./image-step.ts).
 * Refused before anything is recorded on a server without a Docker Engine.
 */
export async function deployImage(ctx: DeployContext, deployer: Pick<Deployer, 'start'>, parser: OffThreadParser, input: ImageDeploy): Promise<DeploymentRecord> {
  const { app, image, wait } = input;
  if (!ctx.driver.images) throw fail('IMAGE_NEEDS_DOCKER', { app });
  parseReference(image);
  const manifest = await parser.parse(input.manifestText ?? '', { file: 'berth.yaml', image });
  checkDomains(ctx, app, manifest);
  await checkAppPolicies(ctx, manifest);
  return deployer.start({ app, kind: 'deploy', description: input.description ?? image, wait, ...(input.options ? { options: input.options } : {}), source: { manifest } });
}
