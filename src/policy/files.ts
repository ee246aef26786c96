/**
 * The server's policies: every `*.yaml` in DATA/policies, read again when a file's mtime, size or inode
 * changes (checked on each use: a threshold edited on disk applies to the next deploy, without a
 * restart). Bounded before parsing: at most MAX_FILES files, each at most MAX_FILE_BYTES. What is read and
 * kept here is the entries with their fields checked; their expressions are compiled by the policy worker
 * (./engine.ts, which keeps each outcome), so this module, which the daemon's thread runs, loads no CEL.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from '../manifest/yaml-source.ts';
import { checkEntries, MAX_POLICIES, type Entry, type Loaded } from './specs.ts';

export const MAX_FILE_BYTES = 256 * 1024;
export const MAX_FILES = 50;

interface Cached {
  mtimeMs: number;
  size: number;
  ino: number;
  entries: Entry[];
}

const problem = (file: string, line: number | null, text: string): Entry => ({ problem: { file, policy: null, line, problem: text } });

/** Reads one policy file's text; `shown` is how problems name it (`policies/defaults.yaml`). */
export function readPolicyText(text: string, shown: string): Entry[] {
  const source = readYaml(text);
  if (source.fatal || source.issues.length) return source.issues.map((i) => problem(shown, source.lineOf(i.path) ?? null, `${i.message}${i.fix ? `: ${i.fix}` : ''}`));
  const value = source.value as Record<string, unknown> | null;
  if (value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).some((k) => k !== 'policies')) {
    return [problem(shown, 1, 'a policy file holds one key, `policies:`, a list of { name, when, expr, message }')];
  }
  return checkEntries(value.policies, shown, (i) => source.lineOf(i < 0 ? 'policies' : `policies[${i}]`) ?? null);
}

/** The checks across the server's files, once their policies are settled: a name used in two files, the total. */
export function checkAcrossFiles(loaded: Loaded): Loaded {
  const out: Loaded = { policies: loaded.policies, problems: [...loaded.problems] };
  const seen = new Map<string, string>();
  for (const p of out.policies) {
    const first = seen.get(p.name);
    if (first !== undefined && first !== p.source.file) out.problems.push({ file: p.source.file, policy: p.name, line: p.source.line, problem: `the name is also used in ${first}` });
    seen.set(p.name, first ?? p.source.file);
  }
  if (out.policies.length > MAX_POLICIES) out.problems.push({ file: 'policies/', policy: null, line: null, problem: `${out.policies.length} policies in all; at most ${MAX_POLICIES}` });
  return out;
}

export class PolicyFiles {
  readonly #dir: string;
  readonly #cache = new Map<string, Cached>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  get dir(): string {
    return this.#dir;
  }

  /** The entries of every file now, in file order: specs to compile and the problems found so far. */
  read(): Entry[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    if (names.length > MAX_FILES) return [problem('policies/', null, `${names.length} policy files; at most ${MAX_FILES}: merge some`)];
    for (const key of [...this.#cache.keys()]) if (!names.includes(key)) this.#cache.delete(key);
    return names.flatMap((name) => this.#file(name));
  }

  #file(name: string): Entry[] {
    const path = join(this.#dir, name);
    const shown = `policies/${name}`;
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return []; // removed between the listing and now
    }
    if (!stat.isFile()) return [problem(shown, null, 'not a regular file')];
    const cached = this.#cache.get(name);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size && cached.ino === stat.ino) return cached.entries;
    const entries =
      stat.size > MAX_FILE_BYTES ? [problem(shown, null, `${stat.size} bytes; a policy file is at most ${MAX_FILE_BYTES / 1024} KiB`)] : readPolicyText(readFileSync(path, 'utf8'), shown);
    this.#cache.set(name, { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino, entries });
    return entries;
  }
}
