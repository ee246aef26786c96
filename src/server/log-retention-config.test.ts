/** `--log-retention` / BERTH_LOG_RETENTION: how long berth keeps app log lines (src/runtime/log-retention.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { resolveServerConfig } from './config.ts';

test('log retention: 14 days by default, a flag or the environment sets it, bad values name where they came from', () => {
  assert.equal(resolveServerConfig({}, {}).logRetentionMs, 14 * 86_400_000);
  assert.equal(resolveServerConfig({ logRetention: '36h' }, {}).logRetentionMs, 36 * 3_600_000);
  assert.equal(resolveServerConfig({}, { BERTH_LOG_RETENTION: '30d' }).logRetentionMs, 30 * 86_400_000);
  assert.equal(resolveServerConfig({ logRetention: '2d' }, { BERTH_LOG_RETENTION: '30d' }).logRetentionMs, 2 * 86_400_000, 'the flag wins');
  for (const [flags, env, path] of [
    [{ logRetention: '10m' }, {}, '--log-retention'],
    [{ logRetention: 'forever' }, {}, '--log-retention'],
    [{}, { BERTH_LOG_RETENTION: '5000d' }, 'BERTH_LOG_RETENTION'],
  ] as const) {
    assert.throws(
      () => resolveServerConfig(flags, env),
      (error) => {
        assert.ok(isBerthError(error) && error.code === 'CONFIG_INVALID');
        const issue = (error.details as { issues: { path: string; message: string; fix: string }[] }).issues[0];
        assert.equal(issue.path, path);
        assert.match(issue.message, /is not a duration from 1h to 3650d/);
        assert.match(issue.fix, /14d/);
        return true;
      },
    );
  }
});
