/**
 * The berth.yaml of an unpacked upload, as the server reads it: a file over the size limit is refused
 * before it is read, the text is parsed off the main thread (./parse-off-thread.ts), and errors name the
 * file as the user knows it (`berth.yaml`), never by its path under the server's data directory.
 */
import { parseManifest } from './load.ts';
import { readManifestFile } from './manifest-file.ts';
import type { OffThreadParser } from './parse-off-thread.ts';
import type { Manifest } from './schema.ts';

export async function readUploadedManifest(dir: string, parser: OffThreadParser): Promise<Manifest> {
  const found = await readManifestFile(dir, { shown: (name) => name });
  // No berth.yaml: every default, which costs nothing to work out.
  if (!found) return parseManifest('');
  return parser.parse(found.text, { file: found.name });
}
