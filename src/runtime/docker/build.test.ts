import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packDirectory } from '../../archive/pack.ts';
import { withTempDir } from '../../archive/test-support.ts';
import { dockerignore } from './build.ts';

test('.dockerignore shapes the build context with the meaning its patterns have in .berthignore', async () => {
  await withTempDir(async (app) => {
    const files: Record<string, string> = {
      '.dockerignore': '# not a pattern\r\n*.txt\r\n!keep.txt\n**/cache\nout/\n\n',
      'a.txt': 'x', 'keep.txt': 'k', 'sub/b.txt': 'x', 'sub/keep.txt': 'k', 'cache/x.js': 'x', 'deep/er/cache/y.js': 'x',
      'out/z.js': 'x', 'src/out': 'a file, not a folder', 'index.js': 'i', '# not a pattern': 'kept',
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(app, path, '..'), { recursive: true });
      await writeFile(join(app, path), content);
    }
    const packed = await packDirectory(app, { extraIgnore: dockerignore(app) });
    packed.stream.resume();
    assert.deepEqual(packed.files, ['# not a pattern', '.dockerignore', 'index.js', 'keep.txt', 'src/out', 'sub/keep.txt']);
  });
});

test('no .dockerignore adds nothing', async () => {
  await withTempDir(async (app) => assert.deepEqual(dockerignore(app), []));
});
