/**
 * The auto-update's numbers: a real registry (Debian's docker-registry, test/support/registry.ts), a real
 * berth daemon (dist/, docker runtime) with an image app following `acme/web:live` with `update: { interval:
 * 5s }`, and a probe asking the app through berth's proxy every 20 ms which version answers. Each round
 * builds a new version (only its last layer differs: the base layers are cached, and the engine has them),
 * pushes it at a chosen point of the updater's check cycle (round i at i/rounds of the interval after a
 * check), and measures from the end of the push (the registry has the new digest) to the first answer
 * from it; the probe checks no later answer came from an older version.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LONG_RUNNING_NODE_FLAGS } from '../../src/lib/node-flags.ts';
import { removeDockerResources } from '../../test/support/berth.ts';
import { startRegistry } from '../../test/support/registry.ts';
import type { Cleanup } from '../lib/cleanup.ts';
import { httpRequest } from '../lib/http.ts';
import { pidsWithCmdline, sleep, waitFor } from '../lib/procs.ts';

const exec = promisify(execFile);
export const INTERVAL_S = 5;

export interface Round {
  version: number;
  /** `docker push` of the new image, start to end. */
  pushS: number;
  /** End of the push -> the update deployment was created (the check that found it). */
  foundS: number;
  /** End of the push -> the first answer from the new version through berth's proxy. */
  toTrafficS: number;
  /** Answers from an older version after the new one answered. */
  stale: number;
}

export interface UpdateResult {
  rounds: Round[];
  registry: string;
  problems: string[];
}

const SERVER = `const http = require('node:http');
http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'version ' + process.env.VERSION + '\\n')).listen(process.env.PORT || 3000);
`;

const MANIFEST = (image: string) => `name: web
image: ${image}
update:
  interval: ${INTERVAL_S}s
  settle: 0s
health:
  path: /health
  interval: 200ms
  healthy_after: 2
deploy:
  drain_timeout: 2s
  standby: 0s
`;

export async function measureUpdates(options: { root: string; nodeImage: string; cleanup: Cleanup; log: (line: string) => void; rounds: number }): Promise<UpdateResult> {
  const { root, log, cleanup } = options;
  const problems: string[] = [];
  const registry = await startRegistry();
  cleanup.add('stop the registry', () => registry.stop());
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-update-'));
  cleanup.add('remove the work dir', () => rmSync(work, { recursive: true, force: true }));
  const localTags: string[] = [];
  cleanup.add('remove the local images', async () => {
    for (const tag of localTags) await exec('docker', ['rmi', '-f', tag]).catch(() => undefined);
  });
  writeFileSync(join(work, 'server.js'), SERVER);
  const build = async (version: number) => {
    writeFileSync(join(work, 'Dockerfile'), `FROM ${options.nodeImage}\nCOPY server.js /srv/server.js\nENV VERSION=${version}\nCMD ["node", "/srv/server.js"]\n`);
    const tag = `berth-bench/update:${version}-${process.pid}`;
    localTags.push(tag);
    await exec('docker', ['build', '-q', '-t', tag, work]);
    return tag;
  };
  const push = async (tag: string) => {
    const started = performance.now();
    await registry.push(tag, 'acme/web:live');
    return { pushedAt: performance.now(), pushedAtEpoch: Date.now(), pushS: (performance.now() - started) / 1000 };
  };

  const data = mkdtempSync(join(tmpdir(), 'berth-bench-update-data-'));
  const cli = join(root, 'dist', 'cli', 'main.js');
  const daemon = spawn(process.execPath, [...LONG_RUNNING_NODE_FLAGS, cli, 'server', '--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--runtime', 'docker', '--node-image', options.nodeImage], {
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  cleanup.add('stop the daemon', async () => {
    const info = readApi(data);
    if (info) await httpRequest(`${info.url}/v1/system/shutdown`, { method: 'POST', headers: { authorization: `Bearer ${token(data)}`, 'content-type': 'application/json' }, body: '{"stopApps":true}' }).catch(() => undefined);
    await waitFor('the daemon to stop', () => (daemon.exitCode !== null ? true : undefined), 30_000).catch(() => daemon.kill('SIGKILL'));
    for (const pid of pidsWithCmdline(data)) process.kill(pid, 'SIGKILL');
    await removeOwned(data);
    rmSync(data, { recursive: true, force: true });
  });
  const api = await waitFor('the daemon to answer', () => readApi(data), 30_000);
  const env = { ...process.env, BERTH_URL: api.url, BERTH_TOKEN: token(data), NO_COLOR: '1' };
  const get = async <T>(path: string): Promise<T> => JSON.parse((await httpRequest(`${api.url}${path}`, { headers: { authorization: `Bearer ${token(data)}` } })).body) as T;
  const latestUpdate = async () => (await get<{ deployments: { kind: string; createdAt: string }[] }>('/v1/apps/web/deployments')).deployments[0];
  const lastCheckAt = async () => (await get<{ updates: { lastCheckAt: string | null }[] }>('/v1/apps/web')).updates[0]?.lastCheckAt ?? null;

  const image = registry.ref('acme/web:live');
  await push(await build(0));
  writeFileSync(join(work, 'berth.yaml'), MANIFEST(image));
  log(`first deploy of ${image}`);
  const first = await runCli(cli, ['deploy', '--image', image], env, work);
  if (first.code !== 0) throw new Error(`berth deploy --image failed:\n${first.err}`);

  const rounds: Round[] = [];
  for (let version = 1; version <= options.rounds; version++) {
    const tag = await build(version);
    // Pushes land at evenly spread points of the check cycle (0, 1/5, 2/5... of the interval after a
    // check), so "found" samples the whole wait a push can meet, not one lucky phase.
    const before = await lastCheckAt();
    const checkedAt = Date.parse(await waitFor('a check', async () => {
      const at = await lastCheckAt();
      return at !== null && at !== before ? at : undefined;
    }, 30_000));
    await sleep(Math.max(0, checkedAt + ((version - 1) / options.rounds) * INTERVAL_S * 1000 - Date.now()));
    const pushed = await push(tag);
    let firstNew: number | undefined;
    let stale = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const seen = await whichVersion(api.http.port);
      if (seen === version) firstNew ??= performance.now();
      else if (firstNew !== undefined && seen !== undefined) stale++;
      if (firstNew !== undefined && performance.now() - firstNew > 1_000) break;
      await sleep(20);
    }
    if (firstNew === undefined) throw new Error(`version ${version} never answered after its push`);
    const update = await latestUpdate();
    if (update?.kind !== 'update') problems.push(`round ${version}: the last deployment is a ${update?.kind ?? 'nothing'}, not an update`);
    const round = { version, pushS: pushed.pushS, foundS: update ? (Date.parse(update.createdAt) - pushed.pushedAtEpoch) / 1000 : NaN, toTrafficS: (firstNew - pushed.pushedAt) / 1000, stale };
    if (stale) problems.push(`round ${version}: ${stale} answers from an older version after the new one answered`);
    log(`version ${version}: pushed in ${round.pushS.toFixed(2)} s, found after ${round.foundS.toFixed(2)} s, all traffic after ${round.toTrafficS.toFixed(2)} s`);
    rounds.push(round);
  }
  return { rounds, registry: 'docker-registry (Distribution v2) on 127.0.0.1', problems };
}

function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('close', (code) => resolve({ code, err }));
  });
}

async function whichVersion(port: number): Promise<number | undefined> {
  const reply = await httpRequest(`http://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' }, timeoutMs: 2000 }).catch(() => undefined);
  const match = reply ? /^version (\d+)/.exec(reply.body) : null;
  return match ? Number(match[1]) : undefined;
}

function readApi(data: string): { url: string; http: { port: number } } | undefined {
  const file = join(data, 'run', 'api.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

const token = (data: string) => readFileSync(join(data, 'admin-token'), 'utf8').trim();

/** Everything labelled with this daemon's owner id (read from its store before the data dir goes). */
async function removeOwned(data: string): Promise<void> {
  if (!existsSync(join(data, 'berth.db'))) return;
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(data, 'berth.db'), { readOnly: true });
  const owner = (db.prepare("SELECT value FROM settings WHERE key = 'owner_id'").get() as { value: string } | undefined)?.value;
  db.close();
  if (owner) await removeDockerResources(owner);
}
