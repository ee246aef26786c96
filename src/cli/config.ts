/**
 * Which berth server the CLI talks to, and with which token. In order: --url/--token, then BERTH_URL and
 * BERTH_TOKEN, then what `berth login` saved, then the local server of the default data directory (its
 * run/api.json, else the default API address) with DATA/admin-token.
 *
 * A token is only ever sent to the server it belongs to: the saved login's token only to the saved URL,
 * the local admin token only to the local server, so `--url https://elsewhere` never leaks either.
 */
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { dataFiles, DEFAULT_API, defaultDataDir } from '../server/config.ts';
import { CliError, EXIT_USAGE } from './errors.ts';

export const DEFAULT_URL = `http://${DEFAULT_API}`;

export interface StoredLogin {
  url: string;
  token: string;
}

/** What the data directory says about the server running from it. */
export interface LocalServer {
  dataDir: string;
  /** run/api.json, written by the server once it listens. */
  apiInfo?: { url: string; pid?: number };
  adminToken?: string;
}

export type TargetSource = 'flag' | 'env' | 'login' | 'local';

export interface Target {
  url: string;
  token?: string;
  /** Where the URL came from; error hints and `berth down` use it. */
  source: TargetSource;
}

export interface TargetInput {
  flags: { url?: string; token?: string };
  env: NodeJS.ProcessEnv;
  login?: StoredLogin;
  local: LocalServer;
}

/** `$XDG_CONFIG_HOME/berth/config.json`, else `~/.config/berth/config.json`. */
export function loginFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'berth', 'config.json');
}

/**
 * Checks a server URL and gives its canonical spelling (no trailing slash), so the same server compares
 * equal however it was typed. `what` names the setting in the error.
 */
export function normalizeUrl(text: string, what = '--url'): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CliError(`${what} "${text}" is not a URL`, 'write the whole URL with its scheme, for example http://127.0.0.1:7171', EXIT_USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`${what} "${text}" is not an http(s) URL`, 'for example http://127.0.0.1:7171 or https://berth.example.com', EXIT_USAGE);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new CliError(`${what} "${text}" should hold only scheme, host, port and path`, 'pass the token with --token or BERTH_TOKEN', EXIT_USAGE);
  }
  return url.href.replace(/\/+$/, '');
}

/** The local server's URL: from its api.json (it may listen on a port chosen at start), else the default. */
export function localUrl(local: LocalServer): string {
  return local.apiInfo?.url ? normalizeUrl(local.apiInfo.url, 'run/api.json url') : DEFAULT_URL;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

export function resolveTarget(input: TargetInput): Target {
  const { flags, env, login, local } = input;
  const flagUrl = nonEmpty(flags.url);
  const envUrl = nonEmpty(env.BERTH_URL);
  let url: string;
  let source: TargetSource;
  if (flagUrl) [url, source] = [normalizeUrl(flagUrl, '--url'), 'flag'];
  else if (envUrl) [url, source] = [normalizeUrl(envUrl, 'BERTH_URL'), 'env'];
  else if (login) [url, source] = [normalizeUrl(login.url, 'the saved login url'), 'login'];
  else [url, source] = [localUrl(local), 'local'];

  const token =
    nonEmpty(flags.token) ??
    nonEmpty(env.BERTH_TOKEN) ??
    (login && normalizeUrl(login.url, 'the saved login url') === url ? nonEmpty(login.token) : undefined) ??
    (localUrl(local) === url ? nonEmpty(local.adminToken) : undefined);
  return token === undefined ? { url, source } : { url, token, source };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // An unreadable admin-token (another user's server) is the same as none: the server will say 401.
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

export async function readLocalServer(dataDir: string): Promise<LocalServer> {
  const files = dataFiles(dataDir);
  const local: LocalServer = { dataDir };
  const apiText = await readText(files.apiInfo);
  if (apiText !== undefined) {
    try {
      const parsed = JSON.parse(apiText) as { url?: unknown; pid?: unknown };
      if (typeof parsed.url === 'string') local.apiInfo = { url: parsed.url, ...(typeof parsed.pid === 'number' ? { pid: parsed.pid } : {}) };
    } catch {
      // Half-written by a server that is starting right now: treat as absent, the default URL applies.
    }
  }
  const token = (await readText(files.adminToken))?.trim();
  if (token) local.adminToken = token;
  return local;
}

export async function readLogin(path: string): Promise<StoredLogin | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  let parsed: { url?: unknown; token?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON`, 'run `berth login <url>` again, or delete the file');
  }
  if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string') {
    throw new CliError(`${path} does not hold a url and a token`, 'run `berth login <url>` again, or delete the file');
  }
  return { url: parsed.url, token: parsed.token };
}

/** Written atomically with mode 0600: the file holds a bearer token. */
export function writeLogin(path: string, login: StoredLogin): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, JSON.stringify({ url: login.url, token: login.token }, null, 2) + '\n', 0o600);
}

export async function removeLogin(path: string): Promise<boolean> {
  const existed = (await readText(path)) !== undefined;
  await rm(path, { force: true });
  return existed;
}

/** Reads every source and resolves: the one impure entry point for commands. */
export async function loadTarget(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv): Promise<Target> {
  const needsFiles = !nonEmpty(flags.url) && !nonEmpty(env.BERTH_URL);
  const needsToken = !nonEmpty(flags.token) && !nonEmpty(env.BERTH_TOKEN);
  const login = needsFiles || needsToken ? await readLogin(loginFile(env)) : undefined;
  const local = needsFiles || needsToken ? await readLocalServer(defaultDataDir(env)) : { dataDir: defaultDataDir(env) };
  return resolveTarget({ flags, env, login, local });
}
