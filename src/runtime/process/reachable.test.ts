import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstClosed, reachIssues } from './reachable.ts';

const statFrom = (modes: Record<string, number>) => (path: string) => {
  if (!(path in modes)) throw new Error(`no stat for ${path}`);
  return { mode: 0o40000 | modes[path] };
};

test('firstClosed names the first directory others cannot pass through, or the target they cannot use', () => {
  const base = { '/': 0o755, '/var': 0o755, '/var/lib': 0o755, '/var/lib/berth': 0o711, '/var/lib/berth/runtime': 0o711 };
  assert.equal(firstClosed('/var/lib/berth/runtime', 'search', statFrom(base)), null);
  assert.deepEqual(firstClosed('/root/.local/share/berth/runtime', 'search', statFrom({ '/': 0o755, '/root': 0o700, '/root/.local': 0o755, '/root/.local/share': 0o755, '/root/.local/share/berth': 0o711, '/root/.local/share/berth/runtime': 0o711 })), { path: '/root', mode: 0o700 });
  assert.deepEqual(firstClosed('/var/lib/berth/runtime', 'search', statFrom({ ...base, '/var/lib/berth/runtime': 0o700 })), { path: '/var/lib/berth/runtime', mode: 0o700 });
  assert.deepEqual(firstClosed('/opt/s.js', 'read', statFrom({ '/': 0o755, '/opt': 0o755, '/opt/s.js': 0o600 })), { path: '/opt/s.js', mode: 0o600 });
  assert.equal(firstClosed('/opt/s.js', 'read', statFrom({ '/': 0o755, '/opt': 0o751, '/opt/s.js': 0o644 })), null);
});

test('reachIssues says which directory blocks app users and how to fix it', () => {
  const stat = statFrom({ '/': 0o755, '/root': 0o700, '/root/data': 0o711, '/root/data/runtime': 0o711, '/root/data/runtime/process': 0o711, '/root/data/runtime/process/builds': 0o711, '/opt': 0o755, '/opt/berth': 0o755, '/opt/berth/bin': 0o755, '/opt/berth/static.js': 0o644 });
  assert.deepEqual(reachIssues({ builds: '/opt/berth/bin', nodeDirs: ['/opt/berth/bin'], staticServer: '/opt/berth/static.js' }, stat), []);
  const issues = reachIssues({ builds: '/root/data/runtime/process/builds', nodeDirs: ['/opt/berth/bin'], staticServer: '/opt/berth/static.js' }, stat);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].path, '--data');
  assert.match(issues[0].message, /^\/root \(mode 0700\) is closed to the users berth runs apps as/);
  assert.match(issues[0].fix!, /--data \/var\/lib\/berth/);
  assert.match(issues[0].fix!, /--runtime docker/);
});
