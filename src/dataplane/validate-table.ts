import { parseHostPort } from '../lib/host-port.ts';
import { chaosLatencyAllowed, chaosRatioAllowed, chaosStatusAllowed } from '../model/wire-chaos.ts';
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
    if (app.chaos !== undefined && app.chaos !== null) problems.push(...chaosProblems(app.chaos, `apps.${name}.chaos`));
    if (app.split !== undefined && app.split !== null) problems.push(...splitProblems(app.split, `apps.${name}.split`));
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

/** A chaos rule within the limits the API enforces (model/wire-chaos.ts), so a hand-made table cannot stall the proxy either. */
function chaosProblems(chaos: unknown, at: string): string[] {
  if (typeof chaos !== 'object' || chaos === null) return [`${at} must be null or an object { mode, release, until, ... }`];
  const c = chaos as Record<string, unknown>;
  const problems: string[] = [];
  if (c.release !== null && (typeof c.release !== 'string' || c.release.length === 0 || c.release.length > 64)) problems.push(`${at}.release must be null or a release name`);
  if (typeof c.until !== 'number' || !Number.isSafeInteger(c.until) || c.until < 0) problems.push(`${at}.until must be a time in ms since the epoch`);
  if (c.mode === 'slow') {
    if (typeof c.latencyMs !== 'number' || !chaosLatencyAllowed(c.latencyMs)) problems.push(`${at}.latencyMs must be an integer from 1 to 60000`);
  } else if (c.mode === 'error') {
    if (typeof c.status !== 'number' || !chaosStatusAllowed(c.status)) problems.push(`${at}.status must be 429 or 500..599`);
    if (typeof c.ratio !== 'number' || !chaosRatioAllowed(c.ratio)) problems.push(`${at}.ratio must be a number with 0 < ratio <= 1`);
  } else problems.push(`${at}.mode must be slow or error`);
  return problems;
}

/** A canary split (`AppRoute.split`): the canary's release name, a whole percentage, how a client keeps its side. */
function splitProblems(split: unknown, at: string): string[] {
  if (typeof split !== 'object' || Array.isArray(split)) return [`${at} must be null or an object { release, percent, sticky }`];
  const s = split as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof s.release !== 'string' || s.release.length === 0 || s.release.length > 64) problems.push(`${at}.release must be a release name (1 to 64 characters)`);
  if (typeof s.percent !== 'number' || !Number.isInteger(s.percent) || s.percent < 0 || s.percent > 100) problems.push(`${at}.percent must be an integer from 0 to 100`);
  if (s.sticky !== 'cookie' && s.sticky !== 'address') problems.push(`${at}.sticky must be cookie or address`);
  return problems;
}
