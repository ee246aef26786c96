/** holdings.ts, pure: which apps and artifacts berth still holds on the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdingsOf } from './holdings.ts';
import { LABEL } from './names.ts';

test('every app with any resource left, and release images (not build-stage ones) as artifacts', () => {
  const labelled = (app: string | undefined, kind: string) => ({ Labels: { [LABEL.kind]: kind, ...(app ? { [LABEL.app]: app } : {}) } });
  const held = holdingsOf({
    containers: [labelled('shop', 'instance'), labelled('shop', 'one-off')],
    networks: [labelled('blog', 'network')],
    volumes: [labelled('db', 'volume'), { Labels: null }],
    images: [
      { Id: 'sha256:release', ...labelled('shop', 'image') },
      { Id: 'sha256:stage', ...labelled('cache', 'build-stage') },
      { Id: 'sha256:unlabelled', Labels: null },
    ],
  });
  assert.deepEqual(held, { apps: ['shop', 'blog', 'db', 'cache'], artifacts: ['sha256:release'] });
  assert.deepEqual(holdingsOf({ containers: [], networks: [], volumes: [], images: [] }), { apps: [], artifacts: [] });
});
