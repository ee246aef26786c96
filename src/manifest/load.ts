/**
 * Reading berth.yaml: text to a resolved, frozen Manifest, or one MANIFEST_INVALID error that lists every
 * problem with its key path and line. Also the app-name rules that combine the manifest with the CLI and
 * the project folder, and the file `berth init` writes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, type Issue } from '../errors/catalogue.ts';
import { isValidAppName, normalizeAppName } from './app-name.ts';
import { validateManifest, type Manifest } from './schema.ts';
import { readYaml } from './yaml-source.ts';

export { initManifestText } from './init-text.ts';
export type { Manifest } from './schema.ts';

/** Looked for in this order. */
export const MANIFEST_FILES = ['berth.yaml', 'berth.yml'] as const;

/**
 * Parses berth.yaml text. An empty file (or only comments) gives every default. Throws MANIFEST_INVALID
 * listing every issue, in file order, each message starting with its line.
 */
export function parseManifest(text: string, options: { file?: string } = {}): Manifest {
  const file = options.file ?? 'berth.yaml';
  const source = readYaml(text);
  if (source.fatal) throw fail('MANIFEST_INVALID', { file, issues: source.issues });
  const result = validateManifest(source.value, { sourceText: source.sourceText });
  const located = result.issues.map((issue) => ({ issue, line: source.lineOf(issue.path) }));
  // Syntax-level issues (duplicate keys) already carry their line and column.
  const all = [...source.issues.map((issue) => ({ issue, line: lineInMessage(issue) })), ...located];
  if (all.length === 0) return result.value;
  all.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const issues = all.map(({ issue, line }) => (line === undefined || lineInMessage(issue) !== undefined ? issue : { ...issue, message: `line ${line}: ${issue.message}` }));
  throw fail('MANIFEST_INVALID', { file, issues });
}

function lineInMessage(issue: Issue): number | undefined {
  const match = /^line (\d+)/.exec(issue.message);
  return match ? Number(match[1]) : undefined;
}

/**
 * Reads `dir/berth.yaml` (or `dir/berth.yml`). Without either, the manifest is all defaults and `found`
 * is false; `file` is then the path berth.yaml would have. Having both is an error, since berth would
 * silently ignore one of them.
 */
export async function loadManifest(dir: string): Promise<{ manifest: Manifest; found: boolean; file: string }> {
  const found: { file: string; text: string }[] = [];
  for (const name of MANIFEST_FILES) {
    const file = join(dir, name);
    const text = await readIfExists(file);
    if (text !== undefined) found.push({ file, text });
  }
  if (found.length > 1) {
    throw fail('MANIFEST_INVALID', {
      file: found[0].file,
      issues: [{ path: '', message: `both ${MANIFEST_FILES.join(' and ')} exist, and berth reads only one`, fix: `merge them into ${MANIFEST_FILES[0]} and delete ${MANIFEST_FILES[1]}` }],
    });
  }
  if (found.length === 0) return { manifest: parseManifest(''), found: false, file: join(dir, MANIFEST_FILES[0]) };
  const [{ file, text }] = found;
  return { manifest: parseManifest(text, { file }), found: true, file };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The app's name, by precedence: the --app flag, the manifest's `name`, package.json "name", the folder
 * name. The flag and the manifest are taken as written (they were typed as app names). The package and
 * folder names are normalized (`@acme/My_App` -> `my-app`, cut to 40 characters); one that normalizes to
 * nothing is skipped. Throws APP_NAME_INVALID when the chosen name is still not valid (`123` starts with a
 * digit), so the user sets `name:` or passes --app instead of getting a surprising name.
 */
export function resolveAppName(input: { flag?: string; manifest: Manifest; packageJsonName?: string; dirName: string }): string {
  const candidates: (string | undefined)[] = [
    input.flag,
    input.manifest.name,
    input.packageJsonName === undefined ? undefined : normalizeAppName(input.packageJsonName),
    normalizeAppName(input.dirName),
  ];
  const chosen = candidates.find((name) => name !== undefined && name !== '');
  if (chosen === undefined || !isValidAppName(chosen)) throw fail('APP_NAME_INVALID', { name: chosen ?? input.dirName });
  return chosen;
}
