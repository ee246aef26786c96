/**
 * Key paths as users read them in messages: `processes.web.replicas`, `domains[1]`, `env["MY.VAR"]`.
 * Plain keys join with dots; a key that could be misread (dots, spaces, quotes) is written as a quoted
 * index, so every path parses back to the same segments (load.ts uses that to find a key's line).
 */
export type Segment = string | number;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

export function joinKey(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function joinIndex(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function formatPath(segments: readonly Segment[]): string {
  let path = '';
  for (const segment of segments) path = typeof segment === 'number' ? joinIndex(path, segment) : joinKey(path, segment);
  return path;
}

/** The inverse of formatPath; returns undefined for text that no join produced. */
export function parsePath(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  let rest = path;
  while (rest !== '') {
    const plain = /^\.?([A-Za-z0-9_-]+)/.exec(rest);
    const index = /^\[(\d+)\]/.exec(rest);
    const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    if (plain && (segments.length > 0 ? rest.startsWith('.') : !rest.startsWith('.'))) {
      segments.push(plain[1]);
      rest = rest.slice(plain[0].length);
    } else if (index) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    } else if (quoted) {
      segments.push(JSON.parse(quoted[1]) as string);
      rest = rest.slice(quoted[0].length);
    } else {
      return undefined;
    }
  }
  return segments;
}

/** The last key or index of a path: what a `key: value` fix is written with. */
export function lastSegment(path: string): Segment | undefined {
  return parsePath(path)?.at(-1);
}
