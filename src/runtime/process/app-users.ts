/**
 * The users a root daemon runs apps as: one system user (and group) per app, created with useradd the
 * first time the app builds or starts, deleted with userdel when the app is destroyed. Real users rather
 * than bare numbers from a reserved range: `ps`, `ls -l` and `top` name them, and tools that look the
 * user up (git, ssh, npm's lifecycle) find one. Each user has a private home under <root>/homes for npm's
 * cache and the app's dotfiles.
 *
 * Race-free: operations on one user run one after the other in this process, and useradd/userdel lock
 * /etc/passwd against every other process; a useradd that loses a race to another (exit 9, "already
 * exists") or finds the files locked is followed by a fresh look-up, a bounded number of times.
 * (useradd checks that the name is free before it takes the lock, so two useradds of one name at once
 * can both succeed, the second replacing the first's uid: only one daemon ever runs per owner id, and
 * the queue below is per process, not per AppUsers, so they never do.)
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from '../../errors/catalogue.ts';
import type { Logger } from '../../lib/log.ts';
import { appOfUser, appUserComment, appUserName, parsePasswd, type PasswdEntry } from './app-user-names.ts';
import { removeTree, type Identity } from './owned-tree.ts';
import { isDead, listPids, readStat, readUids } from '../../lib/proc.ts';

export interface AppUser extends Identity {
  name: string;
  /** Private, writable by this user only: HOME for its builds and processes. */
  home: string;
}

const PASSWD = '/etc/passwd';
const ATTEMPTS = 8;
const COMMAND_TIMEOUT_MS = 30_000;
// useradd and userdel: 9 = the name is taken, 6 = no such user.
const NAME_IN_USE = 9;
const NO_SUCH_USER = 6;

/** The last operation queued per user name, the next one waits for it: /etc/passwd is one per host, so one queue per process. */
const queue = new Map<string, Promise<unknown>>();

export class AppUsers {
  readonly #ownerId: string;
  readonly #homes: string;
  readonly #log: Logger;

  constructor(options: { ownerId: string; homes: string; log: Logger }) {
    this.#ownerId = options.ownerId;
    this.#homes = options.homes;
    this.#log = options.log;
  }

  /** The app's user, created if it does not exist yet, with its home ready. */
  ensure(app: string): Promise<AppUser> {
    return this.#serial(app, () => this.#ensure(app));
  }

  /** Ends every process of the app's user, removes its home and deletes the user. Idempotent. */
  remove(app: string): Promise<void> {
    return this.#serial(app, () => this.#remove(app));
  }

  /** The apps that have a user of this berth. */
  apps(): string[] {
    return readPasswd()
      .map((entry) => appOfUser(this.#ownerId, entry))
      .filter((app): app is string => app !== null);
  }

  #serial<T>(app: string, operation: () => Promise<T>): Promise<T> {
    const name = appUserName(this.#ownerId, app);
    const previous = queue.get(name) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(operation);
    queue.set(name, next);
    const forget = () => {
      if (queue.get(name) === next) queue.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  async #ensure(app: string): Promise<AppUser> {
    const name = appUserName(this.#ownerId, app);
    const home = join(this.#homes, name);
    let entry = this.#ours(app, name);
    for (let attempt = 1; !entry; attempt++) {
      const result = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', nologin(), '--comment', appUserComment(this.#ownerId, app), name]);
      entry = this.#ours(app, name);
      if (entry) break;
      if (attempt >= ATTEMPTS || (result.code !== NAME_IN_USE && !lockBusy(result.stderr))) throw userFailed(name, app, result.stderr || `useradd exited with ${result.code}`);
      await sleep(50 * attempt);
    }
    this.#log.debug('app user ready', { app, user: name, uid: entry.uid });
    prepareHome(home, entry);
    return { name, uid: entry.uid, gid: entry.gid, home };
  }

  async #remove(app: string): Promise<void> {
    const name = appUserName(this.#ownerId, app);
    const home = join(this.#homes, name);
    const entry = readPasswd().find((e) => e.name === name);
    if (entry && (appOfUser(this.#ownerId, entry) !== app || entry.uid === 0)) {
      this.#log.warn('leaving alone a user berth did not create for this app', { app, user: name, uid: entry.uid });
      return;
    }
    if (!entry) {
      await removeTree(home);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      // An app may have left processes berth never saw (a daemonized child with a scrubbed environment):
      // they go first. --force because a zombie nobody reaps still counts as the user's for userdel.
      await killUserProcesses(entry.uid);
      if (attempt === 1) await removeTree(home);
      const result = await run('userdel', ['--force', name]);
      if (result.code === 0 || result.code === NO_SUCH_USER) break;
      if (attempt >= ATTEMPTS) throw userFailed(name, app, result.stderr || `userdel exited with ${result.code}`);
      await sleep(50 * attempt);
    }
    this.#log.info('app user removed', { app, user: name });
  }

  /** The passwd entry of the app's user when berth made it; a user of that name that berth did not make is an error. */
  #ours(app: string, name: string): PasswdEntry | null {
    const entry = readPasswd().find((e) => e.name === name);
    if (!entry) return null;
    if (appOfUser(this.#ownerId, entry) !== app) {
      throw userFailed(name, app, `a user named ${name} exists that berth did not create for this app (comment "${entry.comment}"); berth leaves it alone`);
    }
    if (entry.uid === 0 || entry.gid === 0) throw userFailed(name, app, `the user ${name} has uid ${entry.uid} and gid ${entry.gid}; an app never runs as root`);
    return entry;
  }
}

/** Who a process of the app's user is, for tools that ask the environment rather than the kernel. */
export const userVariables = (user: AppUser): Record<string, string> => ({ HOME: user.home, USER: user.name, LOGNAME: user.name });

/** Deletes every user this berth created (tests, which remove their data directory afterwards). */
export async function removeAppUsers(options: { ownerId: string; homes: string; log: Logger }): Promise<void> {
  const users = new AppUsers(options);
  for (const app of users.apps()) await users.remove(app);
}

function readPasswd(): PasswdEntry[] {
  return parsePasswd(readFileSync(PASSWD, 'utf8'));
}

function nologin(): string {
  return ['/usr/sbin/nologin', '/sbin/nologin'].find((path) => existsSync(path)) ?? '/bin/false';
}

// "cannot lock /etc/passwd; try again later": another useradd/userdel/passwd is running.
const lockBusy = (stderr: string) => /lock/i.test(stderr);

function userFailed(user: string, app: string, reason: string) {
  return fail('APP_USER_FAILED', { user, app, reason: reason.trim() });
}

/** homes/<name>: made by root in a root-owned directory (so the app cannot put a symlink there first), then given to the user. */
function prepareHome(home: string, user: Identity): void {
  mkdirSync(dirname(home), { recursive: true, mode: 0o711 });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const stat = lstatSync(home);
  if (!stat.isDirectory()) throw new Error(`${home} is not a directory`);
  if (stat.uid !== user.uid || stat.gid !== user.gid) lchownSync(home, user.uid, user.gid);
  if ((stat.mode & 0o777) !== 0o700) chmodSync(home, 0o700);
}

/** SIGKILLs every process running as `uid` until none is left (bounded: an app forking as fast as it is killed loses within a few passes). */
export async function killUserProcesses(uid: number): Promise<void> {
  if (!Number.isInteger(uid) || uid <= 0) throw new Error(`refusing to kill every process of uid ${uid}`);
  for (let pass = 0; pass < 200; pass++) {
    const left = listPids().filter((pid) => pid !== process.pid && readUids(pid)?.includes(uid) && !isDead(readStat(pid)));
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await sleep(25);
  }
}

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }, (error, _stdout, stderr) => {
      if (!error) return resolve({ code: 0, stderr: '' });
      // A number is the exit code; anything else (ENOENT: no useradd on this host, a timeout) did not run to an end.
      const code = (error as { code?: unknown }).code;
      resolve(typeof code === 'number' ? { code, stderr: String(stderr) } : { code: -1, stderr: `${file}: ${error.message}` });
    });
  });
}
