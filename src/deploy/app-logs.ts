import type { InstanceRecord } from '../model/records.ts';
import type { LogLine } from '../runtime/driver.ts';
import type { DeployContext } from './context.ts';
import type { LineMatch } from './log-grep.ts';

/** How many of the app's latest instances a read looks at. */
const MAX_INSTANCES = 40;
/** How often a follower looks for instances that started since (a deploy, a restart). */
const NEW_INSTANCE_CHECK_MS = 1000;

/** One line of an instance's output. */
export interface InstanceLine {
  instance: InstanceRecord;
  line: LogLine;
}

/** What a read found: the last lines across instances, by time, and where each instance's log was read up to. */
export interface AppLogs {
  lines: InstanceLine[];
  /** Per instance, the first time (ms) after the lines read; a follow continues from there. */
  readUntil: ReadonlyMap<string, number>;
}

/**
 * The app's output across its latest instances (of one process, if given), merged by time: the last `tail`
 * lines, of those `match` keeps when given. With a match each instance's whole stored log is scanned (the
 * last matches may be anywhere in it), keeping only its last `tail` matches, so memory stays bounded.
 */
export async function readAppLogs(
  ctx: Pick<DeployContext, 'store' | 'driver'>,
  app: string,
  query: { tail: number; process?: string; sinceMs?: number; match?: LineMatch },
): Promise<AppLogs> {
  const { tail, process, sinceMs, match } = query;
  const instances = ctx.store.instances
    .all(app)
    .filter((i) => !process || i.process === process)
    .slice(-MAX_INSTANCES);
  const past: InstanceLine[] = [];
  const readUntil = new Map<string, number>();
  for (const instance of instances) {
    const kept: InstanceLine[] = [];
    for await (const line of ctx.driver.logs(instance.id, match ? { sinceMs } : { sinceMs, tail })) {
      // A follow continues after the last line read, matched or not.
      readUntil.set(instance.id, Math.max(readUntil.get(instance.id) ?? 0, line.ts + 1));
      if (match && !match(line.line)) continue;
      kept.push({ instance, line });
      if (kept.length > tail * 2) kept.splice(0, kept.length - tail);
    }
    past.push(...kept.slice(Math.max(0, kept.length - tail)));
  }
  past.sort((a, b) => a.line.ts - b.line.ts);
  return { lines: past.slice(Math.max(0, past.length - tail)), readUntil };
}

/**
 * Passes the app's new output to `onLine` until `signal` aborts: instances live now continue after what
 * `from` read of them (or from now), ones that appear later (a deploy, a restart) from their first line.
 */
export async function followAppLogs(
  ctx: Pick<DeployContext, 'store' | 'driver' | 'clock'>,
  app: string,
  from: AppLogs,
  io: { process?: string; match?: LineMatch; signal: AbortSignal; onLine(line: InstanceLine): void },
): Promise<void> {
  const { store, driver, clock } = ctx;
  const { process, signal } = io;
  const startedAt = clock.now();
  const followed = new Set<string>();
  const wanted = (instance: InstanceRecord) => !process || instance.process === process;
  const follow = async (instance: InstanceRecord, sinceMs: number | undefined) => {
    followed.add(instance.id);
    try {
      for await (const line of driver.logs(instance.id, { follow: true, sinceMs, signal })) {
        if (!io.match || io.match(line.line)) io.onLine({ instance, line });
      }
    } catch {
      // One instance's log that cannot be followed (it went away) ends its own follow, not the others'.
    }
  };
  for (const instance of store.instances.live(app)) {
    if (wanted(instance)) void follow(instance, from.readUntil.get(instance.id) ?? startedAt);
  }
  while (!signal.aborted) {
    await clock.sleep(NEW_INSTANCE_CHECK_MS, signal).catch(() => {});
    for (const instance of store.instances.live(app)) {
      if (!followed.has(instance.id) && wanted(instance)) void follow(instance, undefined);
    }
  }
}
