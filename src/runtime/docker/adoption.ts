/**
 * What the docker supervisor's adopt() makes of the instance containers a new daemon finds (pure; the
 * saved records are read through the function passed in). Each container nobody supervises yet resumes
 * from its saved record, or from one seeded from the container (made by an older berth, or its file was
 * lost). A run the record says is `running` is one no daemon watched: if it has ended, its exit is judged
 * by its shape (./exit-evidence.ts). Records whose container is gone are stale.
 */
import type { ContainerInspect } from './engine.ts';
import { exitOf, legacyGaveUp } from './inspect-info.ts';
import { LABEL } from './names.ts';
import type { SupervisionState } from './supervision-state.ts';

export interface Adoption {
  id: string;
  container: ContainerInspect;
  record: SupervisionState;
  /** No record was saved: the seeded one is to be saved. */
  seeded: boolean;
  /** The run no daemon watched, when berth expects it up. */
  unwatchedRun: string | undefined;
}

export function planAdoption(
  containers: ContainerInspect[],
  options: { taken: (id: string) => boolean; saved: (id: string) => SupervisionState | undefined },
): Adoption[] {
  const plan: Adoption[] = [];
  const ids = new Set<string>();
  for (const container of containers) {
    const id = container.Config.Labels[LABEL.instance];
    if (!id || ids.has(id) || options.taken(id)) continue;
    ids.add(id);
    const saved = options.saved(id);
    const record = saved ?? seedRecord(id, container);
    plan.push({ id, container, record, seeded: !saved, unwatchedRun: record.state === 'running' ? container.State.StartedAt : undefined });
  }
  return plan;
}

/** A record for a container no record was kept for. */
export function seedRecord(id: string, container: ContainerInspect): SupervisionState {
  const base = { version: 1 as const, id, restarts: container.RestartCount, crashes: [] };
  if (legacyGaveUp(container)) {
    const lastExit = exitOf(container);
    return { ...base, state: 'crashloop', ...(lastExit ? { lastExit } : {}) };
  }
  // Not running: the supervisor's reconcile handles it as an exit noticed late.
  return { ...base, state: 'running', startedAt: container.State.StartedAt };
}

/** Saved records whose container is not among those found, and that nobody supervises or holds. */
export function staleRecords(saved: string[], containers: ContainerInspect[], taken: (id: string) => boolean): string[] {
  const present = new Set(containers.map((c) => c.Config.Labels[LABEL.instance]));
  return saved.filter((id) => !present.has(id) && !taken(id));
}
