/**
 * The server's policies: every `*.yaml` in DATA/policies, read again when a file's mtime, size or inode
 * changes (checked on each use: a threshold edited on disk applies to the next deploy, without a
 * restart). Bounded before parsing: at most MAX_FILES files, each at most MAX_FILE_BYTES.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from '../manifest/yaml-source.ts';
import { compileEntries, MAX_POLICIES, type Loaded } from './specs.ts';

export const MAX_FILE_BYTES = 256 * 1024;
export const MAX_FILES = 50;

interface Cached {
  mtimeMs: number;
  size: number;
  ino: number;
  loaded: Loaded;
}

/** Reads one policy file's text; `shown` is how problems name it (`policies/defaults.yaml`). */
export function loadPolicyText(text: string, shown: string): Loaded {
  const source = readYaml(text);
  if (source.fatal || source.issues.length) {
    return { policies: [], problems: source.issues.map((i) => ({ file: shown, policy: null, line: source.lineOf(i.path) ?? null, problem: `${i.message}${i.fix ? `: ${i.fix}` : ''}` })) };
  }
  const value = source.value as Record<string, unknown> | null;
  if (value === null) return { policies: [], problems: [] };
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).some((k) => k !== 'policies')) {
    return { policies: [], problems: [{ file: shown, policy: null, line: 1, problem: 'a policy file holds one key, `policies:`, a list of { name, when, expr, message }' }] };
  }
  return compileEntries(value.policies, shown, (i) => source.lineOf(i < 0 ? 'policies' : `policies[${i}]`) ?? null);
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

  /** The policies of every file now, and the problems of those that are refused. */
  load(): Loaded {
    let names: string[];
    try {
      names = readdirSync(this.#dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { policies: [], problems: [] };
      throw error;
    }
    const out: Loaded = { policies: [], problems: [] };
    if (names.length > MAX_FILES) {
      out.problems.push({ file: 'policies/', policy: null, line: null, problem: `${names.length} policy files; at most ${MAX_FILES}: merge some` });
      return out;
    }
    for (const key of [...this.#cache.keys()]) if (!names.includes(key)) this.#cache.delete(key);
    for (const name of names) {
      const loaded = this.#file(name);
      out.policies.push(...loaded.policies);
      out.problems.push(...loaded.problems);
    }
    const seen = new Map<string, string>();
    for (const p of out.policies) {
      const first = seen.get(p.name);
      if (first !== undefined && first !== p.source.file) out.problems.push({ file: p.source.file, policy: p.name, line: p.source.line, problem: `the name is also used in ${first}` });
      seen.set(p.name, first ?? p.source.file);
    }
    if (out.policies.length > MAX_POLICIES) out.problems.push({ file: 'policies/', policy: null, line: null, problem: `${out.policies.length} policies in all; at most ${MAX_POLICIES}` });
    return out;
  }

  #file(name: string): Loaded {
    const path = join(this.#dir, name);
    const shown = `policies/${name}`;
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return { policies: [], problems: [] }; // removed between the listing and now
    }
    if (!stat.isFile()) return { policies: [], problems: [{ file: shown, policy: null, line: null, problem: 'not a regular file' }] };
    const cached = this.#cache.get(name);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size && cached.ino === stat.ino) return cached.loaded;
    const loaded: Loaded =
      stat.size > MAX_FILE_BYTES
        ? { policies: [], problems: [{ file: shown, policy: null, line: null, problem: `${stat.size} bytes; a policy file is at most ${MAX_FILE_BYTES / 1024} KiB` }] }
        : loadPolicyText(readFileSync(path, 'utf8'), shown);
    this.#cache.set(name, { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino, loaded });
    return loaded;
  }
}
