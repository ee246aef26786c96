/**
 * Where the process driver keeps things under its root:
 *   builds/<buildId>/                 one directory per release artifact (builds/<buildId>.partial while building)
 *   instances/<id>.json               one state file per instance that should exist
 *   logs/<app>/<release>/<process>.<id>.{stdout,stderr}   raw output, appended by the app itself
 *   logs/<app>/<release>/<process>.<id>.jsonl[.1]          collected, masked, time-stamped lines
 *   logs/<app>/<release>/<process>.<id>.pos                how far the raw files were collected
 *   homes/<user>/                     HOME of an app's user, when the daemon runs apps as users of their own
 *
 * With app users (a root daemon), builds/<buildId>/ and homes/<user>/ belong to the app's user (0700);
 * root, builds/ and homes/ are 0711 (apps pass through to their own, list nothing); instances/ and
 * logs/ stay 0700: an app's output reaches its log files through descriptors berth opened for it.
 */
import { join } from 'node:path';
import { fail } from '../../errors/catalogue.ts';
import { findInLogTree, isSafeName } from '../log-tree.ts';

/** Seals the env and secrets in state files, so they are never on disk in the clear. */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export interface Layout {
  root: string;
  builds: string;
  instances: string;
  logs: string;
  homes: string;
  box?: SecretBox;
}

export interface LogFiles {
  stdout: string;
  stderr: string;
  store: string;
  pos: string;
}

export const PARTIAL_SUFFIX = '.partial';
export const BUILD_MARKER = '.berth-build.json';

export function layoutFor(root: string, box?: SecretBox): Layout {
  return { root, builds: join(root, 'builds'), instances: join(root, 'instances'), logs: join(root, 'logs'), homes: join(root, 'homes'), ...(box ? { box } : {}) };
}

// Names become path components: ../log-tree.ts says which are safe.
export function assertSafeName(what: string, value: string, code: 'BUILD_FAILED' | 'START_FAILED'): void {
  if (!isSafeName(value)) throw fail(code, { reason: `${what} "${value}" is not usable as a file name` });
}

export const buildDir = (layout: Layout, buildId: string) => join(layout.builds, buildId);
export const partialDir = (layout: Layout, buildId: string) => join(layout.builds, buildId + PARTIAL_SUFFIX);
export const stateFile = (layout: Layout, id: string) => join(layout.instances, `${id}.json`);

export function logFiles(layout: Layout, spec: { app: string; release: string; process: string; id: string }): LogFiles {
  const base = join(layout.logs, spec.app, spec.release, `${spec.process}.${spec.id}`);
  return { stdout: `${base}.stdout`, stderr: `${base}.stderr`, store: `${base}.jsonl`, pos: `${base}.pos` };
}

/** Finds the log files of an instance that is no longer known (stopped): a scan of logs/<app>/<release>/. */
export function findLogFiles(layout: Layout, id: string): LogFiles | null {
  if (!isSafeName(id)) return null;
  const suffix = `.${id}.stdout`;
  const found = findInLogTree(layout.logs, (name) => name.endsWith(suffix));
  return found && logFiles(layout, { app: found.app, release: found.release, process: found.name.slice(0, -suffix.length), id });
}
