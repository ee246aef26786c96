/**
 * Reading berth.yaml: text to a resolved, frozen Manifest, or one MANIFEST_INVALID error that lists every
 * problem with its key path and line. Also the app-name rules that combine the manifest with the CLI and
 * the project folder, and the file `berth init` writes.
 */
import { join } from 'node:path';
import { fail, type Issue } from '../errors/catalogue.ts';
import { recordOf } from '../lib/record.ts';
import { isValidAppName, normalizeAppName } from './app-name.ts';
import { textIssue } from './limits.ts';
import { MANIFEST_FILES, readManifestFile } from './manifest-file.ts';
import { validateManifest, type Manifest } from './schema.ts';
import { readYaml } from './yaml-source.ts';

export { initManifestText } from './init-text.ts';
export { MANIFEST_FILES } from './manifest-file.ts';
export type { Manifest } from './schema.ts';

/** Issues listed in one error; a file with more gets a last line counting the rest. */
export const MAX_LISTED_ISSUES = 50;

/**
 * Parses berth.yaml text. An empty file (or only comments) gives every default. Throws MANIFEST_INVALID
 * listing every issue (up to MAX_LISTED_ISSUES), in file order, each message starting with its line.
 * Text over the size or line limits (./limits.ts) is refused before it is parsed.
 */
export function parseManifest(text: string, options: { file?: string; image?: string } = {}): Manifest {
  const file = options.file ?? 'berth.yaml';
  const tooBig = textIssue(text);
  if (tooBig) throw fail('MANIFEST_INVALID', { file, issues: [tooBig] });
  const source = readYaml(text);
  if (source.fatal) throw fail('MANIFEST_INVALID', { file, issues: listed(source.issues) });
  // `berth deploy --image REF`: the image takes the place of the file's `image:`, checked with the rest
  // (a berth.yaml that builds, `build:` or `static:`, cannot run an image instead).
  const value = options.image === undefined ? source.value : withImage(source.value, options.image);
  const result = validateManifest(value, { sourceText: source.sourceText });
  const located = result.issues.map((issue) => ({ issue, line: source.lineOf(issue.path) }));
  // Syntax-level issues (duplicate keys) already carry their line and column.
  const all = [...source.issues.map((issue) => ({ issue, line: lineInMessage(issue) })), ...located];
  if (all.length === 0) return result.value;
  all.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const issues = all.map(({ issue, line }) => (line === undefined || lineInMessage(issue) !== undefined ? issue : { ...issue, message: `line ${line}: ${issue.message}` }));
  throw fail('MANIFEST_INVALID', { file, issues: listed(issues) });
}

function withImage(value: unknown, image: string): unknown {
  const data = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
  return recordOf([...Object.entries(data), ['image', image] as const]);
}

/** The first MAX_LISTED_ISSUES, and a count of the rest: thousands of lines would bury the first ones. */
function listed(issues: Issue[]): Issue[] {
  if (issues.length <= MAX_LISTED_ISSUES) return issues;
  const rest = issues.length - MAX_LISTED_ISSUES;
  return [...issues.slice(0, MAX_LISTED_ISSUES), { path: '', message: `${rest} more problem${rest === 1 ? '' : 's'} not listed`, fix: 'fix the ones above, and berth lists the rest' }];
}

function lineInMessage(issue: Issue): number | undefined {
  const match = /^line (\d+)/.exec(issue.message);
  return match ? Number(match[1]) : undefined;
}

/**
 * Reads `dir/berth.yaml` (or `dir/berth.yml`). Without either, the manifest is all defaults and `found`
 * is false; `file` is then the path berth.yaml would have. Having both is an error, since berth would
 * silently ignore one of them; so is a file over the size limit, which is refused before it is read.
 */
export async function loadManifest(dir: string): Promise<{ manifest: Manifest; found: boolean; file: string }> {
  const found = await readManifestFile(dir);
  if (!found) return { manifest: parseManifest(''), found: false, file: join(dir, MANIFEST_FILES[0]) };
  return { manifest: parseManifest(found.text, { file: found.path }), found: true, file: found.path };
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
