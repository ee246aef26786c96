/** Where the CLI lives: its version and the checkout it runs from (for `berth up`'s example app). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The checkout's root: this file is src/cli/version.ts. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
}

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The CLI entry point, for starting `berth server` as a detached process. */
export function mainScript(): string {
  return fileURLToPath(new URL('./main.ts', import.meta.url));
}
