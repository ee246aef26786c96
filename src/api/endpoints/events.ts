import type { ServerResponse } from 'node:http';
import { followEvents } from '../../audit/follow-events.ts';
import { gatherAudit } from '../../audit/gather.ts';
import { renderAudit } from '../../audit/report.ts';
import { parseSince } from '../../audit/since.ts';
import { expandTypes } from '../../audit/type-filter.ts';
import { checkAppName } from '../../deploy/apps.ts';
import { fail } from '../../errors/catalogue.ts';
import type { EventFilter } from '../../store/events.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { eventView } from '../views.ts';

/** The period `berth audit` reports on when none is given. */
const DEFAULT_AUDIT_PERIOD = '7d';

/**
 * `GET /v1/events`: the event log, every app's or one's (`berth events`), listed or followed;
 * `GET /v1/audit`: the audit report of a period (`berth audit`), rendered here so the CLI only writes it.
 */
export function eventRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;

  router.on(operations.listEvents, async ({ res, query }) => {
    const filter: EventFilter = {};
    if (query.app !== undefined) filter.app = knownApp(deps, query.app);
    if (query.since !== undefined) filter.sinceMs = parseSince(query.since, clock.now());
    if (query.after !== undefined) filter.afterSeq = query.after;
    if (query.type !== undefined) filter.types = expandTypes(query.type);
    if (!query.follow) return answer(res, 'listEvents', 200, { events: store.events.query(filter, query.limit).map((event) => eventView(deps, event)) });

    const stream = new EventStream(res);
    await followEvents(store.events, filter, query.limit, {
      signal: stream.signal,
      event: (event) => stream.send(event.type, eventView(deps, event), event.seq),
      ready: () => drained(res),
    });
  });

  router.on(operations.audit, ({ res, query }) => {
    const app = query.app === undefined ? null : knownApp(deps, query.app);
    const to = clock.now();
    const since = query.since ?? DEFAULT_AUDIT_PERIOD;
    const from = Math.min(parseSince(since, to), to);
    const input = gatherAudit(store.events, { app, from, to }, (event) => eventView(deps, event));
    const events = input.tally.reduce((sum, row) => sum + row.count, 0);
    const cut = input.timeline.total > input.timeline.events.length || input.violations.total > input.violations.events.length;
    answer(res, 'audit', 200, {
      app,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      events,
      listed: input.timeline.events.length,
      cut,
      markdown: renderAudit(input),
    });
  });
}

/**
 * An app name the log knows: one that exists, or one destroyed whose events stay (the log is
 * append-only, and an audit of a removed app is a fair question). Else APP_NOT_FOUND, so a typo is not
 * read as "nothing happened".
 */
function knownApp(deps: ApiDeps, app: string): string {
  checkAppName(app);
  if (deps.ctx.store.apps.get(app)) return app;
  if (deps.ctx.store.events.query({ app }, 1).length > 0) return app;
  throw fail('APP_NOT_FOUND', { app });
}

/** Resolves once the response's buffer drained (at once when it has room) or the connection closed. */
function drained(res: ServerResponse): Promise<void> {
  if (!res.writableNeedDrain || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
