import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { inspect } from 'node:util';
import { waitFor } from '../support/http.ts';
import { TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage } from '../support/docker-images.ts';

/**
 * Secrets of every awkward shape, planted with `berth env set`, printed by the app in several ways (whole,
 * line by line, JSON.stringify'd, util.inspect'd, inside the error that fails its start), by its release
 * command and by `berth run`. Then every file under the data directory (the SQLite files as bytes, and
 * queried), every answer of the routes a user reads and everything the CLI printed are searched for each
 * secret in each spelling. On the process runtime always, on the docker runtime when an engine answers
 * (it fails in CI, BERTH_REQUIRE_DOCKER=1, when none does).
 */

const PLANTED: Record<string, string> = {
  PLANTED_PLAIN: 'sk_live_5d1f0c2b9a8e7d6c',
  PLANTED_SPACES: 'correct horse battery staple 42',
  PLANTED_QUOTES: `q"uo'te\\back\\\\slash$HOME`,
  PLANTED_TAB: 'tab\tseparated\tsecret-77',
  PLANTED_PEM_LF: ['-----BEGIN PLANTED LF KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu', 'ictGeurT8jNbvJZHtCSuYEvu', '-----END PLANTED LF KEY-----'].join('\n'),
  PLANTED_PEM_CRLF: ['-----BEGIN PLANTED CRLF KEY-----', 'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4', 'WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEA', '-----END PLANTED CRLF KEY-----'].join('\r\n'),
  PLANTED_UNICODE: 'pässwörd-秘密-🔑-ключ',
  PLANTED_HOSTILE: '"},{"a":"jh7',
};

const json = (text: string) => JSON.stringify(text).slice(1, -1);

/**
 * Each spelling a secret must never be found in: raw, JSON-escaped (once and twice), util.inspect'd,
 * inside sh single quotes (`berth run` command lines), and each line of a multi-line one.
 */
function spellings(secret: string): string[] {
  const shell = secret.replaceAll("'", "'\\''");
  const forms = [secret, json(secret), json(json(secret)), inspect(secret).slice(1, -1), shell, json(shell)];
  for (const line of secret.split(/\r?\n/)) {
    if (line !== secret && line.trim().length >= 4) forms.push(line.trim(), json(line.trim()));
  }
  return [...new Set(forms)];
}

const HUNTED = Object.entries(PLANTED).flatMap(([name, secret]) => spellings(secret).map((form) => ({ name, form, bytes: Buffer.from(form, 'utf8') })));

/** Which planted secrets (and in which spelling) a text shows. */
function leaksIn(text: string | Buffer): string[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return HUNTED.filter((h) => bytes.includes(h.bytes)).map((h) => `${h.name} as ${JSON.stringify(h.form)}`);
}

/** The app: prints every PLANTED_* value in several ways, and fails its start with them when FAIL_START=1. */
const SERVER_JS = `
import { createServer } from 'node:http';
import { printAll, planted } from './print.js';
printAll('start');
if (process.env.FAIL_START === '1') {
  const error = new Error('cannot start with ' + planted().map(([, v]) => v).join(' | '));
  error.planted = Object.fromEntries(planted());
  throw error;
}
createServer((req, res) => res.end('ok\\n')).listen(Number(process.env.PORT || 3000), process.env.HOST);
`;
const PRINT_JS = `
export const planted = () => Object.entries(process.env).filter(([k]) => k.startsWith('PLANTED_')).sort();
export function printAll(stage) {
  for (const [name, value] of planted()) {
    console.log(stage + ' ' + name + ' whole: ' + value);
    for (const line of value.split(/\\r?\\n/)) console.log(stage + ' ' + name + ' line: ' + line);
    console.log(stage + ' ' + name + ' json: ' + JSON.stringify(value));
    console.log(JSON.stringify({ stage, name, value }));
    console.error(stage + ' ' + name + ' inspect:', { [name]: value });
  }
}
if (process.argv[2] === 'run') printAll('run');
`;

const appDirs: string[] = [];
function plantedApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-planted-'));
  appDirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'planted', version: '1.0.0', private: true, type: 'module', scripts: { start: 'node server.js' } }));
  writeFileSync(join(dir, 'berth.yaml'), 'name: planted\nrelease: node print.js run\nhealth:\n  path: /health\n  interval: 200ms\n  deadline: 20s\n');
  writeFileSync(join(dir, 'server.js'), SERVER_JS);
  writeFileSync(join(dir, 'print.js'), PRINT_JS);
  return dir;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) out.push(...filesUnder(path));
    else if (stat?.isFile()) out.push(path);
  }
  return out;
}

/** Every file under the data dir, read as bytes: what each shows. */
function fileLeaks(dataDir: string): string[] {
  return filesUnder(dataDir).flatMap((file) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return []; // removed while we walked
    }
    return leaksIn(bytes).map((leak) => `${file}: ${leak}`);
  });
}

/** Every text value of every row of every table of the store. */
function storeLeaks(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, 'berth.db'), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.flatMap(({ name }) =>
      (db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]).flatMap((row) =>
        Object.entries(row).flatMap(([column, value]) => (typeof value === 'string' ? leaksIn(value).map((leak) => `${name}.${column}: ${leak}`) : [])),
      ),
    );
  } finally {
    db.close();
  }
}

async function plantAndHunt(berth: TestBerth): Promise<void> {
  const cli: { args: string; out: string; err: string }[] = [];
  // Asynchronous: several `berth run` on the docker runtime would otherwise hold this process's event loop
  // past the daemon's keep-alive timeout, and the next fetch would meet a connection closed meanwhile.
  const run = async (args: string[], input = '') => {
    const result = await berth.cliAsync(args, { input });
    cli.push({ args: args.join(' '), out: result.out, err: result.err });
    return result;
  };

  assert.equal((await run(['create', 'planted'])).code, 0);
  const { PLANTED_PEM_CRLF, ...inline } = PLANTED;
  const set = await run(['env', 'set', 'planted', ...Object.entries(inline).map(([k, v]) => `${k}=${v}`), 'PLANTED_PEM_CRLF=-'], PLANTED_PEM_CRLF);
  assert.equal(set.code, 0, set.err);
  const revealed = (await berth.api('GET', '/v1/apps/planted/env?reveal=1')).body.vars as { name: string; value: string }[];
  assert.deepEqual(Object.fromEntries(revealed.map((v) => [v.name, v.value])), PLANTED, 'every value is stored exactly as given');

  // A deploy: the release command and the instance print every secret.
  const deployed = await run(['deploy', plantedApp()]);
  assert.equal(deployed.code, 0, `${deployed.out}\n${deployed.err}`);
  const logs = await waitFor('the app to have printed every secret', async () => {
    const lines = (await berth.api('GET', '/v1/apps/planted/logs?tail=1000')).body.lines as { line: string }[];
    return lines.some((l) => l.line.startsWith('start PLANTED_UNICODE inspect')) ? lines : undefined;
  }, 20_000, 100);
  // The output is there, masked: this test hunts something real.
  assert.ok(logs.some((l) => l.line === 'start PLANTED_PLAIN whole: ***'), JSON.stringify(logs.slice(0, 20)));
  assert.ok(logs.some((l) => l.line === 'start PLANTED_PEM_LF line: ***'));

  // A rollout whose app throws the secrets while it starts: it fails, and its output tail is kept.
  const failing = await run(['env', 'set', 'planted', 'FAIL_START=1']);
  assert.notEqual(failing.code, 0, 'the rollout fails');
  const deployments = (await berth.api('GET', '/v1/apps/planted/deployments')).body.deployments as { id: string; state: string; error: { logTail: string[] } | null }[];
  const failed = deployments.find((d) => d.state === 'failed');
  assert.ok(failed?.error, JSON.stringify(deployments));
  // The tail holds the failed instance's last lines (what it printed, or the error Node printed for it), masked.
  assert.ok(failed.error.logTail.some((line) => line.startsWith('web.0:') && line.includes('***')), JSON.stringify(failed.error));

  // One-off runs: output, and a command line that holds a secret (the CLI shell-quotes it).
  assert.equal((await run(['run', 'planted', '--', 'node', 'print.js', 'run'])).code, 0);
  assert.equal((await run(['run', 'planted', '--', 'node', '-e', 'console.log(process.argv[1])', PLANTED.PLANTED_QUOTES])).code, 0);
  for (const args of [['status', 'planted'], ['apps'], ['releases', 'planted'], ['logs', 'planted', '--tail', '1000'], ['env', 'list', 'planted']]) await run(args);

  const answers: Record<string, string> = {};
  const read = async (path: string) => {
    const res = await fetch(berth.apiUrl + path, { headers: { authorization: `Bearer ${berth.token}` }, signal: AbortSignal.timeout(30_000) });
    answers[path] = await res.text();
  };
  for (const path of ['/v1/apps', '/v1/apps/planted', '/v1/apps/planted/releases', '/v1/apps/planted/deployments', '/v1/apps/planted/events?limit=1000', '/v1/apps/planted/logs?tail=1000', '/v1/apps/planted/env', '/v1/doctor', '/v1/info']) {
    await read(path);
  }
  for (const { id } of deployments) {
    await berth.settle(id, 'finished');
    await read(`/v1/deployments/${id}`);
    await read(`/v1/deployments/${id}/events`);
  }
  const appEvents = JSON.parse(answers['/v1/apps/planted/events?limit=1000']).events as { type: string; message: string }[];
  assert.ok(appEvents.some((e) => e.type === 'release.log'), 'the release command output is among the events');
  assert.ok(appEvents.some((e) => e.type === 'run.started' && e.message.includes('***')), 'the command line with a secret is in the audit trail, masked');

  const found: string[] = [];
  for (const [path, text] of Object.entries(answers)) found.push(...leaksIn(text).map((leak) => `GET ${path}: ${leak}`));
  for (const { args, out, err } of cli) found.push(...leaksIn(out + err).map((leak) => `berth ${args.slice(0, 60)}: ${leak}`));
  found.push(...leaksIn(berth.daemonLog).map((leak) => `daemon log: ${leak}`));
  found.push(...storeLeaks(berth.dataDir));
  // The app's raw output holds a secret only until the collector has stored its line masked (a pass
  // every 200 ms); it then overwrites those bytes.
  const files = await waitFor('raw output to be scrubbed', () => {
    const leaks = fileLeaks(berth.dataDir);
    return leaks.length === 0 ? [] : undefined;
  }, 5_000, 200).catch(() => fileLeaks(berth.dataDir));
  found.push(...files);
  assert.deepEqual(found, [], 'no planted secret, in any spelling, in files, store rows, API answers, CLI output or the daemon log');
}

describe('planted secrets: process runtime', () => {
  let berth: TestBerth | undefined;
  after(async () => {
    await berth?.close();
  });
  test('no secret of any shape, in any spelling, leaves berth in the clear', { timeout: 240_000 }, async () => {
    berth = await TestBerth.start();
    await plantAndHunt(berth);
  });
});

const docker = await dockerSuite();
describe('planted secrets: docker runtime', { skip: docker.skip }, () => {
  let berth: TestBerth | undefined;
  after(async () => {
    await berth?.close();
  });
  test('no secret of any shape, in any spelling, leaves berth in the clear', { timeout: 300_000 }, async () => {
    berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
    await plantAndHunt(berth);
  });
});

after(() => {
  for (const dir of appDirs) rmSync(dir, { recursive: true, force: true });
});
