/**
 * The audit report's summary: what happened in the period, counted from the store's tally of every event
 * in it (exact however long the timeline is, and whether or not it was cut). Pure.
 */

/** The events of a period counted by type, `deploy.queued` also by its deployment's kind (Events.tally). */
export type Tally = readonly { type: string; kind: string | null; count: number }[];

export interface Summary {
  events: number;
  deploys: { started: number; byKind: Map<string, number>; succeeded: number; failed: number; interrupted: number };
  rollbacks: number;
  /** Auto-updates reverted to the release they replaced (each also a rollback deployment). */
  reverted: number;
  restarts: number;
  crashLoops: number;
  exits: number;
  unhealthy: number;
  healthyAgain: number;
  certificates: { requested: number; issued: number; renewed: number; failed: number };
  violations: number;
  /** The check pipeline: checks that passed and failed, deploys that skipped theirs (`--skip-checks`). */
  checks: { passed: number; failed: number; skipped: number };
  /** Every type with its count, by type name. */
  byType: Map<string, number>;
}

export function summarize(tally: Tally): Summary {
  const byType = new Map<string, number>();
  const byKind = new Map<string, number>();
  for (const row of tally) {
    byType.set(row.type, (byType.get(row.type) ?? 0) + row.count);
    if (row.type === 'deploy.queued') byKind.set(row.kind ?? 'unknown', (byKind.get(row.kind ?? 'unknown') ?? 0) + row.count);
  }
  const of = (type: string) => byType.get(type) ?? 0;
  return {
    events: [...byType.values()].reduce((a, b) => a + b, 0),
    deploys: { started: of('deploy.queued'), byKind, succeeded: of('deploy.succeeded'), failed: of('deploy.failed'), interrupted: of('deploy.interrupted') },
    rollbacks: byKind.get('rollback') ?? 0,
    reverted: of('image.update.reverted'),
    restarts: of('instance.restarted'),
    crashLoops: of('instance.crashloop'),
    exits: of('instance.exited'),
    unhealthy: of('instance.unhealthy'),
    healthyAgain: of('instance.healthy'),
    certificates: { requested: of('cert.requested'), issued: of('cert.issued'), renewed: of('cert.renewed'), failed: of('cert.failed') },
    violations: of('policy.violation'),
    checks: { passed: of('check.passed'), failed: of('check.failed'), skipped: of('checks.skipped') },
    byType: new Map([...byType].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The summary as Markdown list items; only numbers and berth's own words, nothing to escape but type names. */
export function summaryLines(summary: Summary, escapeName: (name: string) => string): string[] {
  const { deploys, certificates } = summary;
  const kinds = [...deploys.byKind].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, n]) => `${n} ${escapeName(kind)}`);
  const lines = [
    `- **Deployments:** ${deploys.started} started${kinds.length ? ` (${kinds.join(', ')})` : ''}; ${deploys.succeeded} succeeded, ${deploys.failed} failed, ${deploys.interrupted} interrupted`,
    `- **Rollbacks:** ${summary.rollbacks}${summary.reverted ? ` (${plural(summary.reverted, 'auto-update')} reverted)` : ''}`,
    `- **Restarts:** ${summary.restarts}; **crash loops:** ${summary.crashLoops}; instance exits: ${summary.exits}`,
    `- **Unhealthy instances:** ${summary.unhealthy} reported unhealthy, ${summary.healthyAgain} healthy again`,
    `- **Certificates:** ${certificates.requested} requested, ${certificates.issued} issued, ${certificates.renewed} renewed, ${certificates.failed} failed`,
    `- **Policy violations:** ${summary.violations}`,
    `- **Checks:** ${summary.checks.passed} passed, ${summary.checks.failed} failed; ${plural(summary.checks.skipped, 'deploy')} skipped them`,
    `- **Events:** ${summary.events}${summary.byType.size ? ', by type:' : ''}`,
  ];
  const counts = [...summary.byType].map(([type, n]) => `  - ${escapeName(type)}: ${n}`);
  return counts.length ? [...lines, ...counts] : lines;
}
