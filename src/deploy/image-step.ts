/**
 * The build step of an image app (`image:` in berth.yaml): nothing is built. The tag is resolved to the
 * digest it points at now, at the registry (with the stored login for it), and that digest is pulled and
 * recorded as the build's artifact (`ghcr.io/acme/web@sha256:...`), so every later start, scale, env
 * change and rollback of this release runs the same bytes, whatever the tag points at by then. An image
 * the registry cannot give but that is on this machine (`docker build -t myapp .` on the server) runs as
 * that local image.
 */
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { BuildRecord, ReleaseRecord } from '../model/records.ts';
import { credentialLookup, credentialsFor } from '../registry/credentials.ts';
import { formatReference } from '../lib/image-reference.ts';
import { parseReference } from '../registry/reference.ts';
import { freeBuild } from './builds.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { pullReporter } from './pull-events.ts';
import { createRelease, requireCurrentRelease } from './releases.ts';
import type { UpdateOrder } from './runbook.ts';
import { moveTo, type Run } from './steps.ts';

/**
 * `pinned`: the digest an auto-update found, pulled as it is (the tag is not resolved again).
 * `beforeRecord`: the `build` checks of a deploy (./checks.ts), run on the pulled image first.
 */
export async function imageStep(run: Run, manifest: Manifest, description: string, pinned?: string, beforeRecord?: (build: BuildRecord) => Promise<ReleaseRecord['checks']>): Promise<ReleaseRecord> {
  moveTo(run, 'building');
  const { ctx, deployment } = run;
  const images = ctx.driver.images;
  if (!images) throw fail('IMAGE_NEEDS_DOCKER', { app: deployment.app });
  const image = manifest.image!;
  const where = { app: deployment.app, deploymentId: deployment.id };
  const say = (line: string) => {
    run.tail.push(line);
    emit(ctx, where, { type: 'build.log', message: line });
  };

  const artifact = pinned ?? (await resolveArtifact(ctx, run, image, say));
  if (pinned) say(`${image} moved to ${pinned.slice(pinned.indexOf('@') + 1)} (auto-update)`);
  const pulled = await images.ensure(artifact, { onPull: pullReporter(ctx, where, image), signal: run.signal });
  const buildId = newId('bld');
  // inferredCommand '': web runs the image's own command unless berth.yaml gives one.
  ctx.store.builds.insert({ id: buildId, app: deployment.app, artifact, inferredCommand: '', gitSha: null, image, pulled: pulled.pulled, createdAt: ctx.clock.now() });
  run.undo.push('free the pulled image', () => freeBuild(ctx, ctx.store.builds.get(buildId)!));
  const checks = await beforeRecord?.(ctx.store.builds.get(buildId)!);
  const release = createRelease(ctx, { app: deployment.app, deploymentId: deployment.id, buildId, manifest, description, ...(checks ? { checks } : {}) });
  run.undo.push('mark the release failed', () => ctx.store.releases.setStatus(release.id, 'failed'));
  return release;
}

/**
 * The build step of an auto-update (kind `update`): the serving release again, with one image on the
 * digest the updater found. The app's own image goes through imageStep; a service's new digest is
 * recorded on a release of the serving build (./service-images.ts), and the services step recreates it.
 */
export async function updateStep(run: Run, order: UpdateOrder, description: string): Promise<ReleaseRecord> {
  const { ctx, deployment } = run;
  const serving = requireCurrentRelease(ctx, deployment.app);
  if (order.service === null) return imageStep(run, serving.manifest, description, order.pinned);
  const release = createRelease(ctx, { app: deployment.app, deploymentId: deployment.id, buildId: serving.buildId, manifest: serving.manifest, description, serviceImages: { [order.service]: order.pinned } });
  run.undo.push('mark the release failed', () => ctx.store.releases.setStatus(release.id, 'failed'));
  return release;
}

/** The digest-pinned reference the registry gives for `image` now, or the local image when only the machine has it. */
async function resolveArtifact(ctx: DeployContext, run: Run, image: string, say: (line: string) => void): Promise<string> {
  const ref = parseReference(image);
  const credentials = credentialsFor(ref, credentialLookup(ctx.store.registryCredentials, ctx.sealer));
  try {
    const resolved = await ctx.registry.resolveDigest(ref, { credentials, signal: run.signal });
    const pinned = formatReference(resolved.pinned);
    say(`${image} is ${resolved.digest}`);
    return pinned;
  } catch (error) {
    if (run.signal.aborted || !isBerthError(error)) throw error;
    const local = await ctx.driver.images!.present(image);
    if (!local) throw error;
    say(`${image} is not in a registry berth can ask (${(error as BerthError).message}); running the image on this machine, ${local.id}`);
    return local.id;
  }
}
