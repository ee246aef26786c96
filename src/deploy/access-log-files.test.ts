import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastLineEnd, linesBackward, MAX_LINE_BYTES } from './access-log-files.ts';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('linesBackward gives every line of fitting length, last first, whatever the chunk boundaries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lines-'));
  for (const seed of [1, 2, 3, 4, 5]) {
    const rnd = random(seed);
    const lines: string[] = [];
    let size = 0;
    while (size < 600_000) {
      const r = rnd();
      // Mostly short lines; some empty, some just under and over the bound, some far over it.
      const length = r < 0.05 ? 0 : r < 0.1 ? MAX_LINE_BYTES - 1 + Math.floor(rnd() * 3) : r < 0.12 ? 70_000 + Math.floor(rnd() * 100_000) : Math.floor(rnd() * 400);
      const line = String.fromCharCode(97 + (lines.length % 26)).repeat(length);
      lines.push(line);
      size += length + 1;
    }
    const torn = 'torn-without-newline';
    const file = join(dir, `f${seed}`);
    writeFileSync(file, lines.join('\n') + '\n' + torn);
    const handle = await open(file, 'r');
    try {
      const end = await lastLineEnd(handle, (await handle.stat()).size);
      assert.equal(end, size, 'the torn line is not read');
      const got: string[] = [];
      for await (const batch of linesBackward(handle, end)) got.push(...batch);
      const expected = lines.filter((l) => l.length > 0 && l.length <= MAX_LINE_BYTES).reverse();
      assert.equal(got.length, expected.length, `seed ${seed}`);
      assert.ok(got.every((l, i) => l === expected[i]), `seed ${seed}: same lines in the same order`);
    } finally {
      await handle.close();
    }
  }
});
