/**
 * `npm run build` (also run by `npm ci` through "prepare"): writes dist/, berth's sources with their
 * types stripped, for the processes a user runs (CLI, daemon, proxy). Running .ts directly loads Node's
 * type stripper into every process, about 30 MB of memory each; the stripped files run without it.
 * Stripping keeps every character's position, so stack traces point at the same lines as in src/.
 * Development and tests run src/ directly; bin/berth falls back to src/ when dist/ is older than it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');
const staging = join(root, '.dist-building');

/** Relative module specifiers ('./x.ts', "../y/z.ts") become .js; same length, so positions hold. */
const SPECIFIER = /(['"])(\.\.?\/[^'"\n]*?)\.ts\1/g;

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    // Tests and their support (`*.test-support.ts`: harnesses, fixtures, contract suites) never ship.
    else if ((name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.test-support.ts') && !name.endsWith('.d.ts')) || name.endsWith('.js')) yield path;
  }
}

rmSync(staging, { recursive: true, force: true });
let files = 0;
for (const file of sources(src)) {
  // Plain .js files (the static server, which also runs inside app containers) are copied as they are.
  const text = readFileSync(file, 'utf8');
  const js = file.endsWith('.js') ? text : stripTypeScriptTypes(text, { mode: 'strip' }).replace(SPECIFIER, '$1$2.js$1');
  const target = join(staging, relative(src, file)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, js);
  files++;
}
// package.json says "type": "module" for the checkout; dist/ is inside it, so .js files are ES modules.
writeFileSync(join(staging, '.stamp'), `${new Date().toISOString()}\n`);
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log(`built dist/ from ${files} source files`);
