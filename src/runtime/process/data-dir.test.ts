import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setDataDirModes } from './data-dir.ts';

/** A DATA as an older berth or a careless umask left it: everything open to everyone. */
function openDataDir(): { data: string; outside: string } {
  const data = mkdtempSync(join(tmpdir(), 'berth-data-modes-'));
  for (const dir of ['run', 'logs', 'uploads', 'runtime/docker/logs', 'runtime/process/builds']) mkdirSync(join(data, dir), { recursive: true, mode: 0o755 });
  for (const file of ['admin-token', 'secret.key', 'berth.db', 'berth.db-wal', 'berth.db-shm', 'run/api.json']) writeFileSync(join(data, file), 'x', { mode: 0o644 });
  const outside = join(data, '..', `${data.split('/').pop()}-outside`);
  writeFileSync(outside, 'x', { mode: 0o644 });
  symlinkSync(outside, join(data, 'link'));
  chmodSync(data, 0o755);
  for (const dir of ['run', 'logs', 'uploads', 'runtime', 'runtime/docker', 'runtime/process']) chmodSync(join(data, dir), 0o755);
  return { data, outside };
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('with app users, DATA, runtime/ and runtime/process/ can be passed through, and everything else in them is closed', () => {
  const { data, outside } = openDataDir();
  try {
    setDataDirModes(data, { appUsers: true });
    const expected: Record<string, number> = {
      '': 0o711,
      runtime: 0o711,
      'runtime/process': 0o711,
      'runtime/docker': 0o700,
      run: 0o700,
      logs: 0o700,
      uploads: 0o700,
      'admin-token': 0o600,
      'secret.key': 0o600,
      'berth.db': 0o600,
      'berth.db-wal': 0o600,
      'berth.db-shm': 0o600,
    };
    for (const [path, mode] of Object.entries(expected)) assert.equal(modeOf(join(data, path)).toString(8), mode.toString(8), path || 'DATA');
    assert.equal(modeOf(join(data, 'runtime/process/builds')), 0o755, 'below its root, the driver sets the modes');
    assert.equal(modeOf(outside), 0o644, 'a symlink is not followed out of DATA');
  } finally {
    rmSync(data, { recursive: true, force: true });
    rmSync(outside, { force: true });
  }
});

test('without app users, DATA and everything directly in it are for berth\'s user alone', () => {
  const { data, outside } = openDataDir();
  try {
    setDataDirModes(data, { appUsers: false });
    for (const [path, mode] of Object.entries({ '': 0o700, runtime: 0o700, run: 0o700, 'secret.key': 0o600, 'berth.db': 0o600 })) {
      assert.equal(modeOf(join(data, path)).toString(8), mode.toString(8), path || 'DATA');
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
    rmSync(outside, { force: true });
  }
});
