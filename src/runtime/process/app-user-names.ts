/**
 * The names of the users the process runtime runs apps as, and how berth recognises its own in
 * /etc/passwd. Pure. The name carries a tag of the owner id, so two berths on one host (tests do that)
 * never share a user; the comment (GECOS) field carries the app and a longer owner tag, and is what
 * berth checks before it uses or deletes a user: a user it did not create is never touched.
 */
import { createHash } from 'node:crypto';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
}

const hex = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

// useradd's default NAME_REGEX wants lowercase; names stay under 32 characters (utmp, older shadow).
const PLAIN_APP = /^[a-z0-9][a-z0-9-]{0,17}$/;

/** berth-<owner tag>-<app>, e.g. berth-3fa2c1-shop; an app name that does not fit gets a hash suffix. */
export function appUserName(ownerId: string, app: string): string {
  const slug = PLAIN_APP.test(app) ? app : `${app.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 11)}-${hex(app, 6)}`;
  return `berth-${hex(ownerId, 6)}-${slug}`;
}

/** The comment berth writes on each of its users: no ':' or ',' (passwd separators), app names have none. */
export const appUserComment = (ownerId: string, app: string): string => `berth app ${app} owner ${hex(ownerId, 16)}`;

const COMMENT = /^berth app (\S+) owner ([0-9a-f]{16})$/;

/** The app a passwd entry runs, when berth with this owner id created it; null for every other user. */
export function appOfUser(ownerId: string, entry: PasswdEntry): string | null {
  const match = COMMENT.exec(entry.comment);
  if (!match || match[2] !== hex(ownerId, 16) || entry.name !== appUserName(ownerId, match[1])) return null;
  return match[1];
}

/** /etc/passwd lines; malformed ones are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length !== 7) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!fields[0] || !Number.isInteger(uid) || !Number.isInteger(gid) || fields[2] === '' || fields[3] === '') continue;
    entries.push({ name: fields[0], uid, gid, comment: fields[4], home: fields[5] });
  }
  return entries;
}
