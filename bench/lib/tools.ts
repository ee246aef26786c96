/** The external programs a benchmark needs: found on PATH, or installed from Debian's archive when we may. */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** Executable name. */
  bin: string;
  /** Debian package that provides it. */
  apt: string;
}

/** Also looks in the sbin directories, which a non-login root shell may lack on PATH (nginx lives there). */
export function which(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, bin);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/**
 * Returns the path of each tool. Missing ones are installed with apt-get when running as root on a
 * Debian-like system; otherwise this throws, naming the packages to install.
 */
export function ensureTools(tools: Tool[], log: (line: string) => void): Record<string, string> {
  const missing = tools.filter((t) => !which(t.bin));
  if (missing.length) {
    const packages = missing.map((t) => t.apt);
    const hint = `install ${packages.length > 1 ? 'them' : 'it'} with: sudo apt-get install ${packages.join(' ')}`;
    if (process.getuid?.() !== 0 || !which('apt-get')) {
      throw new Error(`missing ${missing.map((t) => `${t.bin} (Debian package ${t.apt})`).join(', ')}; ${hint}`);
    }
    log(`installing ${packages.join(' ')} from the apt archive`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env, timeout: 300_000 });
    // A fresh machine often has no package lists yet; update only when the first attempt needs it.
    if (install().status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 300_000 });
      if (install().status !== 0) throw new Error(`apt-get could not install ${packages.join(' ')}; ${hint}`);
    }
  }
  const paths: Record<string, string> = {};
  for (const tool of tools) {
    const path = which(tool.bin);
    if (!path) throw new Error(`${tool.bin} is still missing after installing ${tool.apt}`);
    paths[tool.bin] = path;
  }
  return paths;
}

/** First line a program prints about its version (nginx and wrk print it on stderr, wrk exits 1). */
export function versionOf(path: string, args: string[]): string {
  const result = spawnSync(path, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || 'unknown';
}

export function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
