/**
 * The folder map in ARCHITECTURE.md is the law: each folder of src/ sits on a floor and imports only
 * from floors below it (or its own folder). This test reads every import of every shipped module and
 * fails on one that reaches up or sideways, and on shipped code importing test code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/**
 * Floors, ground first. A folder imports its own floor's folders only where `also` says so; every
 * folder may import any folder on a lower floor.
 */
export const FLOORS: { floor: number; folders: string[] }[] = [
  { floor: 0, folders: ['lib', 'errors'] },
  { floor: 1, folders: ['manifest', 'archive', 'secrets', 'static'] },
  { floor: 2, folders: ['model'] },
  { floor: 3, folders: ['store', 'runtime', 'dataplane', 'registry'] },
  { floor: 4, folders: ['proxy', 'health', 'certs', 'metrics', 'notify', 'audit', 'policy'] },
  { floor: 5, folders: ['deploy'] },
  { floor: 6, folders: ['api'] },
  { floor: 7, folders: ['server'] },
  { floor: 8, folders: ['cli'] },
];

/**
 * The CLI talks to the daemon through the API only: above the model, it may use what runs on the
 * user's machine (the manifest it validates, the archive it packs, the server it starts with `berth
 * server` / `berth up` and whose data dir it reads), never the store, the runtime or the deploy machinery.
 */
const CLI_MAY_IMPORT = new Set(['lib', 'errors', 'manifest', 'archive', 'model', 'server', 'cli']);

const floorOf = new Map(FLOORS.flatMap(({ floor, folders }) => folders.map((f) => [f, floor] as const)));

const isTestCode = (file: string) => /\.test\.ts$|\.test-support\.ts$/.test(file) || !file.startsWith('src/');

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|js)$/.test(name)) yield path;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(relative(root, resolve(dirname(file), m[1] ?? m[2])));
  return out;
}

const folderOf = (path: string) => path.split('/')[1];

test('every folder of src/ has a floor in the map', () => {
  const folders = readdirSync(src).filter((name) => statSync(join(src, name)).isDirectory());
  assert.deepEqual(folders.filter((f) => !floorOf.has(f)), [], 'add the folder to FLOORS (and to ARCHITECTURE.md)');
});

test('shipped code imports only from its own folder or floors below; the CLI only from what runs on the user\'s machine', () => {
  const leaks: string[] = [];
  for (const path of files(src)) {
    const file = relative(root, path);
    if (isTestCode(file)) continue;
    const from = folderOf(file);
    for (const target of importsOf(path)) {
      if (isTestCode(target)) {
        leaks.push(`${file} -> ${target}: shipped code imports test code`);
        continue;
      }
      const to = folderOf(target);
      if (to === from) continue;
      if (from === 'cli') {
        if (!CLI_MAY_IMPORT.has(to)) leaks.push(`${file} -> ${target}: the CLI talks to the daemon through the API only`);
        continue;
      }
      if (!(floorOf.get(to)! < floorOf.get(from)!)) leaks.push(`${file} -> ${target}: ${from} (floor ${floorOf.get(from)}) imports ${to} (floor ${floorOf.get(to)})`);
    }
  }
  assert.deepEqual(leaks, []);
});
