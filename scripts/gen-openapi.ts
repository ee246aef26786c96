/**
 * Writes docs/openapi.json from the control API's code (src/api/openapi.ts).
 *   npm run gen:openapi             write the file (left alone when unchanged)
 *   npm run gen:openapi -- --check  exit 1 if it is out of date (for CI)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiText, GENERATE_OPENAPI_COMMAND, OPENAPI_FILE } from '../src/api/openapi.ts';
import { writeFileAtomic } from '../src/lib/atomic-file.ts';

function main(argv: string[]): number {
  const target = join(import.meta.dirname, '..', OPENAPI_FILE);
  const content = openApiText();
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) {
    console.log(`unchanged ${OPENAPI_FILE}`);
    return 0;
  }
  if (argv.includes('--check')) {
    console.error(`${OPENAPI_FILE} is out of date: run \`${GENERATE_OPENAPI_COMMAND}\``);
    return 1;
  }
  writeFileAtomic(target, content);
  console.log(`wrote ${OPENAPI_FILE}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
