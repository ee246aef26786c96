import { accessLogDir, followAccessLog, readAccessLog } from '../../deploy/access-logs.ts';
import { followAppLogs, readAppLogs, type InstanceLine } from '../../deploy/app-logs.ts';
import { grepMatcher } from '../../deploy/log-grep.ts';
import { requireApp } from '../../deploy/apps.ts';
import { fail } from '../../errors/catalogue.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import type { AccessEntry } from '../../dataplane/access-log.ts';
import { parseStatusFilter, type StatusFilter } from '../../model/wire-logs.ts';
import type { AccessLogEntry, LogLine } from '../../model/wire.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';

/** GET /v1/apps/:app/logs: the app's output across its instances, merged by time; `follow=1` streams. */
export function logRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;

  router.on(operations.logs, async ({ res, params: { app }, query }) => {
    requireApp(deps.ctx, app);
    const { tail, process, follow } = query;
    const sinceMs = parseSince(query.since, clock.now());
    const match = query.grep === undefined ? undefined : grepMatcher(query.grep);

    const releaseNames = new Map(store.releases.listByApp(app).map((r) => [r.id, `v${r.version}`]));
    const view = ({ instance, line }: InstanceLine): LogLine => ({
      ts: new Date(line.ts).toISOString(),
      stream: line.stream,
      line: line.line,
      instance: instance.id,
      process: instance.process,
      release: releaseNames.get(instance.releaseId) ?? instance.releaseId,
    });
    const read = await readAppLogs(deps.ctx, app, { tail, process, sinceMs, match });
    if (!follow) return answer(res, 'logs', 200, { lines: read.lines.map(view) });

    const stream = new EventStream(res);
    for (const line of read.lines) stream.send('log', view(line));
    await followAppLogs(deps.ctx, app, read, { process, match, signal: stream.signal, onLine: (line) => stream.send('log', view(line)) });
  });
}

/** GET /v1/apps/:app/access-log: the app's requests from the proxy's access log; `follow=1` streams. */
export function accessLogRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;
  const dir = accessLogDir(deps.config.dataDir);

  router.on(operations.accessLog, async ({ res, params: { app }, query }) => {
    requireApp(deps.ctx, app);
    const sinceMs = parseSince(query.since, clock.now());
    const status = query.status === undefined ? undefined : statusFilter(query.status);
    const filters = { app, ...(status ? { status } : {}), ...(query.path ? { pathPrefix: query.path } : {}) };

    // Release ids as their names (v3); a release made while following is looked up once.
    const names = new Map(store.releases.listByApp(app).map((r) => [r.id, `v${r.version}`]));
    const nameOf = (id: string) => {
      if (!names.has(id)) names.set(id, ((r) => (r && r.app === app ? `v${r.version}` : id))(store.releases.get(id)));
      return names.get(id)!;
    };
    const view = (e: AccessEntry): AccessLogEntry => ({
      time: e.time,
      ip: cap(e.ip, 64),
      method: cap(e.method, 32),
      path: cap(e.path, 2048),
      status: e.status,
      bytes: e.bytes,
      ms: e.ms,
      host: cap(e.host, 256),
      release: e.release === null ? null : cap(nameOf(e.release), 128),
      instance: e.instance === null ? null : cap(e.instance, 128),
      requestId: cap(e.id, 128),
      proto: e.proto,
      tls: e.tls,
    });
    const read = await readAccessLog(dir, { ...filters, tail: query.tail, ...(sinceMs !== undefined ? { sinceMs } : {}) }, { follow: query.follow });
    if (!query.follow) return answer(res, 'accessLog', 200, { entries: read.entries.map(view), complete: read.complete });

    const stream = new EventStream(res);
    for (const entry of read.entries) stream.send('access', view(entry));
    await followAccessLog(dir, filters, read.from, { signal: stream.signal, onEntry: (entry) => stream.send('access', view(entry)) });
  });
}

function statusFilter(text: string): StatusFilter {
  const parsed = parseStatusFilter(text);
  if (typeof parsed === 'string') throw fail('REQUEST_INVALID', { issues: [{ path: 'status', message: parsed, fix: 'status=5xx for a class, status=404 for one code' }] });
  return parsed;
}

/** A string from the log, at most `max` characters (the proxy writes shorter ones; damage may not). */
function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `since` as an ISO time or a duration back from now (`10m`). */
function parseSince(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw fail('REQUEST_INVALID', { issues: [{ path: 'since', message: `${JSON.stringify(value)} is neither a time nor a duration`, fix: 'since=10m or since=2026-11-22T10:00:00Z' }] });
  return time;
}
