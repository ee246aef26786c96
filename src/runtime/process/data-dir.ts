/**
 * The modes of what berth keeps directly in DATA, set at every start. Only berth's user reads anything
 * there: directories 0700, files 0600 (the admin token, secret.key, berth.db and its -wal/-shm, ...).
 * When the process runtime runs apps as users of their own, those users must still pass through DATA,
 * DATA/runtime and DATA/runtime/process to reach their builds (the kernel checks every directory of a
 * path), so those three are 0711: others may go through them, never list them or read what is in them.
 * The driver sets the modes below its own root (./driver.ts).
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function setDataDirModes(dataDir: string, options: { appUsers: boolean }): void {
  const passage = options.appUsers ? ['runtime', join('runtime', 'process')] : [];
  chmodSync(dataDir, options.appUsers ? 0o711 : 0o700);
  closeEntries(dataDir, '', passage);
}

function closeEntries(dataDir: string, relative: string, passage: string[]): void {
  for (const name of readdirSync(join(dataDir, relative))) {
    const path = join(relative, name);
    // Gone since the listing (a temp file renamed into place): nothing to close.
    const stat = lstatSync(join(dataDir, path), { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) continue;
    if (passage.includes(path)) {
      chmodSync(join(dataDir, path), 0o711);
      // The process runtime's own root: the driver sets what is inside it.
      if (path !== join('runtime', 'process')) closeEntries(dataDir, path, passage);
    } else {
      chmodSync(join(dataDir, path), stat.isDirectory() ? 0o700 : 0o600);
    }
  }
}
