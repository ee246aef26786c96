/**
 * Issue 7, finding 6: on the process runtime, apps and builds must not hold the keys to berth. A root
 * daemon (this machine, CI) runs each app as a user of its own; an app deployed here tries to read
 * berth's admin token, sealing key and database, to look into berth's state and log folders, to reach
 * the proxy's control socket, and to read another app's build and home, and reports what it got.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUids } from '../../src/lib/proc.ts';
import { TestBerth } from '../support/berth.ts';
import { request, waitFor } from '../support/http.ts';

const asRoot = process.getuid?.() === 0;
const skip = asRoot ? false : 'the process runtime isolates apps only when berth runs as root; run the tests as root to cover it';

// Answers POST /probe with who it runs as and, for each [kind, path] asked, what it got (an errno code, or what it read).
const PROBER = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
// Output reopened by path, as shells and many servers do: it must still reach berth's log.
fs.appendFileSync('/dev/stderr', 'prober: reopened /dev/stderr\\n');
function attempt([kind, target]) {
  return new Promise((resolve) => {
    try {
      if (kind === 'read') return resolve('read ' + fs.readFileSync(target).length + ' bytes');
      if (kind === 'list') return resolve('listed ' + fs.readdirSync(target).join(','));
      if (kind === 'write') return resolve((fs.writeFileSync(target, 'x'), 'wrote'));
      const socket = net.connect(target);
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (error) => resolve(error.code));
    } catch (error) {
      resolve(error.code || String(error));
    }
  });
}
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/crash') return res.end('bye', () => process.exit(1));
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    const probes = body ? JSON.parse(body) : [];
    const results = [];
    for (const probe of probes) results.push(await attempt(probe));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), pid: process.pid, cwd: process.cwd(), home: process.env.HOME, results }));
  });
}).listen(Number(process.env.PORT), process.env.HOST);
`;

function proberApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-prober-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, scripts: { start: 'node server.js' } }));
  writeFileSync(join(dir, 'server.js'), PROBER);
  writeFileSync(join(dir, 'berth.yaml'), `name: ${name}\nhealth:\n  path: /health\n  interval: 200ms\n`);
  return dir;
}

function staticApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-prober-site-'));
  mkdirSync(join(dir, 'public'));
  writeFileSync(join(dir, 'public', 'index.html'), '<h1>site</h1>\n');
  writeFileSync(join(dir, 'berth.yaml'), 'name: site\nstatic: public\nhealth:\n  interval: 200ms\n');
  return dir;
}

interface ProbeReply {
  uid: number;
  gid: number;
  pid: number;
  cwd: string;
  home: string;
  results: string[];
}

async function probe(berth: TestBerth, app: string, probes: [string, string][] = []): Promise<ProbeReply> {
  const reply = await request({ port: berth.httpPort, host: `${app}.localhost`, path: '/probe', method: 'POST', body: JSON.stringify(probes) });
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as ProbeReply;
}

const passwdUids = () => readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => Number(line.split(':')[2]));

let berth: TestBerth;
before(async () => {
  if (asRoot) berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

test('process runtime as root: each app runs as its own user and reads neither berth\'s keys, database, state, logs and sockets nor another app\'s files', { skip, timeout: 240_000 }, async () => {
  for (const app of ['alpha', 'beta']) await berth.deploy(app, proberApp(app));
  await berth.deploy('site', staticApp());
  const data = berth.dataDir;
  const beta = await probe(berth, 'beta');
  const own = await probe(berth, 'alpha');

  const attempts: [string, string][] = [
    ['read', join(data, 'admin-token')],
    ['read', join(data, 'secret.key')],
    ['read', join(data, 'berth.db')],
    ['list', data],
    ['list', join(data, 'runtime', 'process', 'builds')],
    ['list', join(data, 'runtime', 'process', 'instances')],
    ['list', join(data, 'runtime', 'process', 'logs')],
    ['list', join(data, 'runtime', 'process', 'logs', 'beta')],
    ['connect', join(data, 'run', 'proxy.sock')],
    ['read', join(beta.cwd, 'server.js')],
    ['list', beta.cwd],
    ['list', beta.home],
    ['write', join(beta.cwd, 'planted.js')],
  ];
  const alpha = await probe(berth, 'alpha', [...attempts, ['read', 'server.js'], ['write', join(own.home, 'note')]]);
  const got = Object.fromEntries(attempts.map(([kind, path], i) => [`${kind} ${path}`, alpha.results[i]]));
  for (const [what, result] of Object.entries(got)) assert.equal(result, 'EACCES', `${what}: ${result}`);
  // Not a probe that cannot succeed: the same app reads its own build and writes its own home.
  assert.deepEqual(alpha.results.slice(attempts.length), [`read ${PROBER.length} bytes`, 'wrote']);
  assert.ok(existsSync(join(data, 'run', 'proxy.sock')) && existsSync(join(data, 'secret.key')), 'the probed paths exist');

  assert.notEqual(alpha.uid, 0, 'alpha does not run as root');
  assert.notEqual(beta.uid, 0, 'beta does not run as root');
  assert.notEqual(alpha.gid, 0);
  assert.notEqual(alpha.uid, beta.uid, 'each app has a user of its own');
  assert.notEqual(alpha.gid, beta.gid, 'and a group of its own');

  // Every instance, the static file server included, runs as a user that is not root.
  const site = await request({ port: berth.httpPort, host: 'site.localhost' });
  assert.match(site.body, /<h1>site<\/h1>/);
  const instances = berth.ownedProcesses().filter((p) => p.instance);
  assert.deepEqual([...new Set(instances.map((p) => p.app))].sort(), ['alpha', 'beta', 'site']);
  for (const p of instances) assert.ok(!readUids(p.pid)!.includes(0), `${p.app} (pid ${p.pid}) runs as ${readUids(p.pid)}`);

  const logged = await waitFor('the line written through /dev/stderr', async () => {
    const lines = (await berth.api('GET', '/v1/apps/alpha/logs?tail=50')).body.lines as { line: string }[];
    return lines.some((l) => l.line === 'prober: reopened /dev/stderr');
  });
  assert.ok(logged);

  // A one-off run (`berth run`, the release command) runs as the app's user too.
  const run = berth.cli(['run', 'alpha', '--', 'node', '-e', "console.log('uid=' + process.getuid()); require('fs').readFileSync(process.argv[1])", join(data, 'secret.key')]);
  assert.match(run.out, new RegExp(`^uid=${alpha.uid}$`, 'm'), run.out + run.err);
  assert.notEqual(run.code, 0, 'the one-off could not read the key either');
  assert.match(run.out + run.err, /EACCES/);
});

test('process runtime as root: a restarted daemon adopts the apps, and restarts a crashed one as the same user', { skip, timeout: 120_000 }, async () => {
  const before = await probe(berth, 'alpha');
  await berth.kill();
  await berth.startDaemon();
  const adopted = await probe(berth, 'alpha');
  assert.deepEqual([adopted.pid, adopted.uid], [before.pid, before.uid], 'the same process serves, as the same user');
  await request({ port: berth.httpPort, host: 'alpha.localhost', path: '/crash' });
  const restarted = await waitFor('alpha to come back after its crash', async () => {
    const reply = await probe(berth, 'alpha').catch(() => undefined);
    return reply && reply.pid !== before.pid ? reply : undefined;
  }, 30_000, 100);
  assert.equal(restarted.uid, before.uid);
  assert.notEqual(restarted.uid, 0, 'supervision after adoption still starts the app as its user, not as root');
});

test('process runtime as root: destroying an app deletes its user, its home and its builds', { skip, timeout: 60_000 }, async () => {
  const beta = await probe(berth, 'beta');
  assert.ok(passwdUids().includes(beta.uid));
  assert.equal((await berth.api('DELETE', '/v1/apps/beta')).status, 200);
  assert.ok(!passwdUids().includes(beta.uid), 'the user is gone from /etc/passwd');
  assert.equal(existsSync(beta.home), false, 'its home is gone');
  assert.equal(existsSync(beta.cwd), false, 'its build is gone');
  const doctor = JSON.parse(berth.cli(['doctor', '--json']).out);
  assert.deepEqual(doctor.warnings, [], 'berth doctor has nothing to warn about');
});
