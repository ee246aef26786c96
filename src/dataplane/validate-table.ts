import { parseHostPort } from '../lib/host-port.ts';
import type { RouteTable } from './route-table.ts';

/** Checks a route table received over the wire; returns the problems (empty when it is sound). */
export function routeTableProblems(value: unknown): string[] {
  const problems: string[] = [];
  const table = value as RouteTable;
  if (!table || typeof table !== 'object') return ['table must be an object'];
  if (!Number.isInteger(table.generation) || table.generation < 0) problems.push('generation must be a non-negative integer');
  if (!table.apps || typeof table.apps !== 'object') return [...problems, 'apps must be an object'];
  for (const [name, app] of Object.entries(table.apps)) {
    if (!app || typeof app !== 'object') {
      problems.push(`apps.${name} must be an object { hosts, targets, drainTimeoutMs }`);
      continue;
    }
    if (!Array.isArray(app.hosts) || app.hosts.some((h) => typeof h !== 'string' || h !== h.toLowerCase())) problems.push(`apps.${name}.hosts must be lowercase strings`);
    if (!Number.isInteger(app.drainTimeoutMs) || app.drainTimeoutMs < 0) problems.push(`apps.${name}.drainTimeoutMs must be a non-negative integer`);
    if (app.https !== undefined) problems.push(...httpsProblems(app.https, `apps.${name}.https`));
    if (!Array.isArray(app.targets)) {
      problems.push(`apps.${name}.targets must be a list`);
      continue;
    }
    app.targets.forEach((t, i) => {
      const at = `apps.${name}.targets[${i}]`;
      if (typeof t.id !== 'string' || !t.id) problems.push(`${at}.id must be a string`);
      if (typeof t.address !== 'string' || !parseHostPort(t.address, '')?.host) problems.push(`${at}.address must be host:port`);
      if (typeof t.weight !== 'number' || t.weight < 0) problems.push(`${at}.weight must be a number >= 0`);
      if (t.state !== 'active' && t.state !== 'draining') problems.push(`${at}.state must be active or draining`);
    });
  }
  return problems;
}

/** The HSTS value becomes a response header line: visible ASCII only, so it can never end the line early. */
const HEADER_VALUE = /^[\x20-\x7e]{1,1024}$/;

function httpsProblems(https: unknown, at: string): string[] {
  if (!https || typeof https !== 'object') return [`${at} must be an object { redirect, hsts }`];
  const { redirect, hsts } = https as { redirect?: unknown; hsts?: unknown };
  const problems: string[] = [];
  if (typeof redirect !== 'boolean') problems.push(`${at}.redirect must be true or false`);
  if (hsts !== null && (typeof hsts !== 'string' || !HEADER_VALUE.test(hsts))) problems.push(`${at}.hsts must be null or a Strict-Transport-Security value (printable ASCII, at most 1024 characters)`);
  return problems;
}
