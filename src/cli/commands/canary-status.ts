/** The canary part of `berth status`: mode, weight, step, time left in it, the last verdicts with their numbers. */
import type { CanaryFigures, CanaryRollout } from '../../model/wire.ts';
import { formatElapsed } from '../format.ts';
import type { Style } from '../io.ts';

const rate = (r: number | null) => (r === null ? '-' : `${Math.round(r * 1000) / 10} %`);
const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
const numbers = (f: CanaryFigures) => `${f.requests} req, errors ${rate(f.errorRate)}, p99 ${ms(f.p99)}`;

/** The `canary` row's value and the verdict lines under it. */
export function formatCanary(app: string, c: CanaryRollout, now: number, style: Style): { row: string; lines: string[] } {
  const left = Math.max(0, Date.parse(c.stepEndsAt) - now);
  const what =
    c.state === 'running'
      ? `${c.canary} at ${c.percent} % (step ${c.step}/${c.steps}, ${left > 0 ? `${formatElapsed(left)} left` : 'judging'}), ${c.stable} serves the rest`
      : c.state === 'aborting'
        ? style.red(`${c.canary} aborting: all traffic on ${c.stable}${c.reason ? ` (${c.reason})` : ''}`)
        : `${c.canary} ${c.state}`;
  const lines: string[] = [];
  if (c.last) {
    const head = `last verdict (${c.last.moment === 'promote' ? 'promotion' : `step ${c.step}`}): ${c.last.allowed ? style.green('allowed') : style.red('denied')}`;
    lines.push(`  ${head}: canary ${numbers(c.last.canary)}; stable ${numbers(c.last.stable)}`);
    for (const v of c.last.verdicts) lines.push(`    ${v.allowed ? style.green('allow') : style.red('deny ')} ${v.policy}${v.allowed ? '' : `: ${v.reason}`}`);
  } else lines.push('  no verdict yet: waiting for the canary\'s first requests');
  if (c.state === 'running') lines.push(`  \`berth promote ${app}\` promotes now, \`berth abort ${app}\` puts all traffic back on ${c.stable}`);
  return { row: `canary ${what}`, lines };
}
