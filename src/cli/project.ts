/** What the CLI reads from an app folder besides berth.yaml. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PackageInfo {
  name?: string;
  startScript?: string;
}

/** package.json's name and start script; undefined without a package.json. A broken one counts as absent: the build reports it. */
export async function readPackageJson(dir: string): Promise<PackageInfo | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const pkg = JSON.parse(text) as { name?: unknown; scripts?: { start?: unknown } };
    const info: PackageInfo = {};
    if (typeof pkg.name === 'string' && pkg.name.trim()) info.name = pkg.name;
    if (typeof pkg.scripts?.start === 'string' && pkg.scripts.start.trim()) info.startScript = pkg.scripts.start;
    return info;
  } catch {
    return {};
  }
}
