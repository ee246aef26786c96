import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { extractTarGz } from '../../archive/extract.ts';
import { checkAppName } from '../../deploy/apps.ts';
import { checkNotDeploying, deployFolder } from '../../deploy/deploy-folder.ts';
import { deployImage } from '../../deploy/deploy-image.ts';
import { checkStrategy, type DeployOptions } from '../../deploy/deploy-options.ts';
import { fail, isBerthError } from '../../errors/catalogue.ts';
import { newId } from '../../lib/ids.ts';
import { OffThreadParser } from '../../manifest/parse-off-thread.ts';
import type { ApiDeps } from '../deps.ts';
import { sendError } from '../http.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { detachedDeployer } from './common.ts';

/**
 * POST /v1/apps/:app/deploys: receive a folder as a gzip-compressed tar, unpack it safely, and deploy it
 * (../../deploy/deploy-folder.ts). Every check that can fail runs before anything is recorded, so a
 * refused upload leaves no app, no deployment and no files behind.
 */
export function deployRoutes(router: Router, deps: ApiDeps): void {
  const { maxUploadBytes, maxUnpackedBytes, maxUploadEntries } = deps.config;
  const log = deps.ctx.log.child({ component: 'upload' });
  // Parses berth.yaml files in worker threads, a few at a time, so the API keeps answering meanwhile.
  const parser = new OffThreadParser();

  // The query (`wait`) is checked against operations.deploy before this runs.
  router.on(operations.deploy, async ({ req, res, params: { app }, query }) => {
    const wait = query.wait;
    let options: DeployOptions;
    // Refusals before the whole body is read drain the rest first, so the client reads the answer.
    try {
      checkAppName(app);
      options = deployOptions(query);
      const type = String(req.headers['content-type'] ?? '');
      if (!/application\/(gzip|x-gzip|x-tar|octet-stream)/.test(type)) {
        throw fail('BODY_INVALID', { reason: `expected a gzip-compressed tar (Content-Type: application/gzip), got "${type || 'none'}"` });
      }
      if (Number(req.headers['content-length'] ?? 0) > maxUploadBytes) throw fail('BODY_TOO_LARGE', { limit: maxUploadBytes });
      checkNotDeploying(deps.ctx, app, wait);
    } catch (error) {
      return sendError(res, error, req);
    }

    const dir = join(deps.ctx.settings.uploadsDir, newId('upl'));
    try {
      const { skipped } = await extractTarGz(req as IncomingMessage & AsyncIterable<Uint8Array>, dir, {
        maxCompressedBytes: maxUploadBytes,
        maxBytes: maxUnpackedBytes,
        maxEntries: maxUploadEntries,
      });
      if (skipped.count > 0) log.info('upload: left out what no upload may hold', { app, count: skipped.count, first: skipped.first });
    } catch (error) {
      // The API answer says what failed; the paths on the server are in the cause, for this log only.
      if (isBerthError(error) && error.code === 'INTERNAL') log.error('upload: extraction failed', { app, error: error.cause as Error });
      return sendError(res, error, req);
    }
    const description = String(req.headers['x-berth-description'] ?? 'deploy').slice(0, 200);
    // Only a value that looks like a commit id becomes an image tag; anything else is ignored.
    const sha = String(req.headers['x-berth-git-sha'] ?? '');
    const gitSha = /^[0-9a-f]{7,40}(-dirty)?$/.test(sha) ? sha : undefined;
    const deployment = await deployFolder(deps.ctx, detachedDeployer(deps), parser, { app, dir, wait, description, options, ...(gitSha ? { gitSha } : {}) });
    answer(res, 'deploy', 202, { deployment: deploymentView(deps, deployment) });
  });

  // POST /v1/apps/:app/deploys/image: a prebuilt image (../../deploy/deploy-image.ts); body and query checked before.
  router.on(operations.deployImage, async ({ res, params: { app }, query, body }) => {
    checkAppName(app);
    const options = deployOptions(query);
    checkNotDeploying(deps.ctx, app, query.wait);
    const deployment = await deployImage(deps.ctx, detachedDeployer(deps), parser, {
      app,
      image: body.image,
      wait: query.wait,
      options,
      ...(body.manifest !== undefined ? { manifestText: body.manifest } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    });
    answer(res, 'deployImage', 202, { deployment: deploymentView(deps, deployment) });
  });
}

/** `?strategy=canary&skipChecks=1`, checked before anything is read or recorded. */
function deployOptions(query: { strategy?: string; skipChecks?: boolean }): DeployOptions {
  const strategy = checkStrategy(query.strategy);
  return { ...(strategy ? { strategy } : {}), ...(query.skipChecks ? { skipChecks: true } : {}) };
}
