/** The rolling part of `berth status`: which batch of which process a rolling deploy is at. */
import type { ApiEvent } from '../../model/wire.ts';

/** What `berth status` shows of a rolling deploy under way, from its `deploy.batch` events. */
export interface RollingProgress {
  process: string;
  batch: number;
  of: number;
  started: number;
  retired: number;
  rollback: boolean;
}

/** The last batch done by `deploymentId` among `events` (any order); null before its first batch is done. */
export function rollingProgress(events: readonly ApiEvent[], deploymentId: string): RollingProgress | null {
  let last: RollingProgress | null = null;
  let lastSeq = -1;
  for (const event of events) {
    if (event.type !== 'deploy.batch' || event.deploymentId !== deploymentId || event.seq < lastSeq) continue;
    const d = event.data;
    last = { process: d.process, batch: d.batch, of: d.of, started: d.started, retired: d.retired, rollback: d.rollback === true };
    lastSeq = event.seq;
  }
  return last;
}

/** The `mode` row's value while a deployment is in the `rolling` state. */
export function formatRolling(progress: RollingProgress | null): string {
  if (!progress) return 'rolling: first batch starting';
  const { process, batch, of, started, retired } = progress;
  const what = progress.rollback ? 'putting the serving release back' : 'replacing instances';
  return `rolling: ${what}, ${process} batch ${batch}/${of} done (${started} started, ${retired} retired)`;
}
