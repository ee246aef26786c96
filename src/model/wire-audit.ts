/** The audit report as the API sends it (`GET /v1/audit`): the Markdown and what it covers. */
import * as w from './wire-schema.ts';

export const AuditReport = w.object({
  app: w.described('the app reported on; null for every app', w.nullable(w.string())),
  from: w.described('the period\'s start (inclusive)', w.dateTime()),
  to: w.described('the period\'s end: when the report was made', w.dateTime()),
  events: w.described('every event of the period, as the summary counts them', w.integer()),
  listed: w.described('the rows of the timeline table', w.integer()),
  cut: w.described('the timeline or the violations table leaves out earlier entries of the period (the report says so)', w.boolean()),
  markdown: w.described('the report, GitHub-flavoured Markdown', w.string()),
});
export type AuditReport = w.Infer<typeof AuditReport>;
