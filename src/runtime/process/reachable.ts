/**
 * What an app's user must be able to reach, checked once when the driver starts: its builds (under the
 * driver's root, inside DATA), berth's Node and the static file server. The kernel checks search (x)
 * permission on every directory of a path, so an app can open nothing below a directory it cannot pass
 * through, however open its own files are. The app users are neither the owner nor in the group of
 * those directories, so "others" bits are what count.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Issue } from '../../errors/catalogue.ts';

type StatFn = (path: string) => Pick<Stats, 'mode'>;

/** The first directory above `path` (or `path` itself, for `need`) that others cannot use; null when none. */
export function firstClosed(path: string, need: 'search' | 'read' | 'execute', stat: StatFn = statSync): { path: string; mode: number } | null {
  const chain: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of chain) {
    const mode = stat(dir).mode & 0o777;
    if (!(mode & 0o001)) return { path: dir, mode };
  }
  const mode = stat(path).mode & 0o777;
  const bit = need === 'read' ? 0o004 : 0o001;
  return mode & bit ? null : { path, mode };
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

/** One issue per thing an app's user could not reach, each with the setting to change. */
export function reachIssues(input: { builds: string; nodeDirs: string[]; staticServer: string }, stat: StatFn = statSync): Issue[] {
  const issues: Issue[] = [];
  const builds = firstClosed(input.builds, 'search', stat);
  if (builds) {
    issues.push({
      path: '--data',
      message: `${builds.path} (mode ${octal(builds.mode)}) is closed to the users berth runs apps as, so they could not reach their builds in ${input.builds}`,
      fix: `put the data directory where every user may pass through, such as --data /var/lib/berth (or BERTH_DATA); or, if nothing in ${builds.path} is readable by others, \`chmod o+x ${builds.path}\` (they can then pass, never list it); or use --runtime docker`,
    });
  }
  for (const dir of input.nodeDirs) {
    const closed = firstClosed(dir, 'search', stat);
    if (closed) issues.push({ path: 'berth\'s Node', message: `${closed.path} (mode ${octal(closed.mode)}) is closed to the users berth runs apps as, so they could not run ${dir}/node`, fix: `install berth where every user may read it, such as /opt/berth, or use --runtime docker` });
  }
  const server = firstClosed(input.staticServer, 'read', stat);
  if (server) issues.push({ path: 'berth\'s files', message: `${server.path} (mode ${octal(server.mode)}) is closed to the users berth runs apps as, so they could not run the static file server`, fix: 'install berth where every user may read it, such as /opt/berth, or use --runtime docker' });
  return issues;
}
