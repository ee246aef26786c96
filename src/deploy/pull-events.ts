/**
 * A pull's progress as the deployment's `image.pull` events: at most one a second (the engine reports
 * four), and always the last one, so `berth deploy` shows `pulling redis:7  43/120 MB (3/7 layers)` live
 * without a big image writing hundreds of rows.
 */
import type { PullProgress } from '../runtime/driver.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';

const EVERY_MS = 1000;

export function pullReporter(ctx: Pick<DeployContext, 'store' | 'clock' | 'secrets'>, where: { app: string; deploymentId: string }, image: string): (progress: PullProgress) => void {
  let last = 0;
  return (progress) => {
    const now = ctx.clock.now();
    if (!progress.done && now - last < EVERY_MS) return;
    last = now;
    const { doneBytes, totalBytes, layers, layersDone, done } = progress;
    emit(ctx, where, { type: 'image.pull', message: describePull(image, progress), data: { image, doneBytes, totalBytes, layers, layersDone, done } });
  };
}

/** `pulling redis:7  43/120 MB (3/7 layers)`, then `pulled redis:7 (120 MB)`. */
export function describePull(image: string, p: PullProgress): string {
  if (p.done) return `pulled ${image} (${megabytes(p.totalBytes)} MB)`;
  return `pulling ${image}  ${megabytes(p.doneBytes)}/${megabytes(p.totalBytes)} MB (${p.layersDone}/${p.layers} layers)`;
}

const megabytes = (bytes: number) => (bytes >= 10 * 1024 * 1024 ? Math.round(bytes / (1024 * 1024)) : Math.round(bytes / (1024 * 102.4)) / 10);
