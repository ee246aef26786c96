/**
 * Writes schema/berth.schema.json and docs/manifest.md from src/manifest/schema.ts.
 *   npm run gen:manifest             write the files (unchanged files are left alone)
 *   npm run gen:manifest -- --check  exit 1 if any file is out of date (for CI)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../src/lib/atomic-file.ts';
import { GENERATE_COMMAND, generatedFiles } from '../src/manifest/generate.ts';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const root = join(import.meta.dirname, '..');
  let stale = 0;
  for (const { path, content } of generatedFiles()) {
    const target = join(root, path);
    let current: string | undefined;
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) {
      console.log(`unchanged ${path}`);
      continue;
    }
    stale++;
    if (check) {
      console.log(`out of date ${path}`);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, content);
    console.log(`wrote ${path}`);
  }
  if (check && stale > 0) {
    console.error(`${stale} generated file(s) are out of date: run \`${GENERATE_COMMAND}\``);
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
