/**
 * Whether the process runtime can keep apps away from berth and from each other. Only a daemon running as
 * root can start processes as other users; any other daemon runs apps as itself, so an app (or one of its
 * npm dependencies) can read the admin token, the sealing key and every other app's files. Pure: the uid
 * is passed in, so `berth doctor`'s warning is tested without changing who runs the tests.
 */

/** The uid the daemon runs as; -1 where there are no uids (never the case on Linux, the only host berth supports). */
export const daemonUid = (): number => process.getuid?.() ?? -1;

/** A daemon running as root runs every app as a user of its own; any other runs them as itself. */
export const isolatesApps = (uid: number): boolean => uid === 0;

export const NOT_ISOLATED_WARNING =
  'the process runtime does not isolate apps: berth does not run as root, so every app and build runs as berth\'s own user and can read ' +
  'the admin token, DATA/secret.key (and so every secret) and the other apps\' files. Use the docker runtime, or run berth as root under ' +
  'systemd: it then runs each app as a user of its own.';

/** The warning `berth doctor` shows for this runtime and daemon uid, if any. */
export function isolationWarning(input: { driver: string; uid: number }): string | null {
  return input.driver === 'process' && !isolatesApps(input.uid) ? NOT_ISOLATED_WARNING : null;
}
