/**
 * File operations of a root daemon on directories an app's user owns (its builds, its home). The app can
 * change such a tree at any moment, swapping a file for a symlink to /etc/shadow or DATA/secret.key, so
 * root never follows links in it and never walks it while the app could be inside: a tree is handed over
 * children first and its top last (the app cannot enter before), a file is created only where nothing
 * is (O_EXCL does not follow a symlink), and a tree is emptied by its own user before root removes the
 * then empty top directory from the root-owned directory holding it.
 */
import { execFile } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Identity {
  uid: number;
  gid: number;
}

/** spawn() options that run a child as `user` (libuv also drops root's supplementary groups); none for the daemon's own user. */
export const asUser = (user: Identity | null | undefined): { uid?: number; gid?: number } => (user ? { uid: user.uid, gid: user.gid } : {});

/** Gives a tree nobody else can enter yet (root-owned, 0700 at the top) to `owner`; the top goes last and becomes 0700. */
export function chownTree(path: string, owner: Identity): void {
  chownContents(path, owner);
  chmodSync(path, 0o700);
  lchownSync(path, owner.uid, owner.gid);
}

function chownContents(dir: string, owner: Identity): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = join(dir, entry.name);
    if (entry.isDirectory()) chownContents(child, owner);
    lchownSync(child, owner.uid, owner.gid);
  }
}

/**
 * Makes sure `owner` owns the tree at `path`. A tree root made (a build from before berth ran apps as
 * users of their own) is handed over; one of another user is refused: it is another app's.
 */
export function claimTree(path: string, owner: Identity): void {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) throw new Error('it is not a directory');
  if (stat.uid === owner.uid) return;
  if (stat.uid !== 0) throw new Error(`it belongs to uid ${stat.uid}`);
  chownTree(path, owner);
}

/** Creates `path` with `data`; whatever the app put there (a symlink above all) is removed, never followed. */
export function writeNewFile(path: string, data: string): void {
  rmSync(path, { force: true });
  writeFileSync(path, data, { flag: 'wx', mode: 0o644 });
}

/** A tree as big as a node_modules takes a while to delete; this bounds one that never ends. */
const REMOVE_TIMEOUT_MS = 10 * 60_000;

/**
 * Removes a directory tree. One owned by root (nobody else could enter it) goes at once; one owned by an
 * app's user is emptied by that user (`chmod -R u+rwX` first, for read-only folders in it), so a swapped
 * symlink can only lead the removal where the app could already delete; root then removes the empty top.
 */
export async function removeTree(path: string): Promise<void> {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory() || stat.uid === 0 || process.getuid?.() !== 0) {
    rmSync(path, { recursive: true, force: true });
    return;
  }
  const owner = { uid: stat.uid, gid: stat.gid };
  await runAs(owner, 'chmod', ['-R', 'u+rwX', '--', path]);
  await runAs(owner, 'rm', ['-rf', '--', path]);
  try {
    rmdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`could not remove ${path}: ${(error as Error).message}`, { cause: error });
  }
}

// The user cannot remove the top itself (its parent is root's), so these commands end non-zero; what
// matters is the rmdir after them.
function runAs(owner: Identity, file: string, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile(file, args, { uid: owner.uid, gid: owner.gid, cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeout: REMOVE_TIMEOUT_MS, maxBuffer: 64 * 1024 }, () => resolve());
  });
}
