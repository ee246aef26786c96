import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The guard runs in a child process of its own: an uncaught error is process-wide, and the test runner
 * has its own handler for those. The child serves HTTP on port 0; a request's timer throws after the
 * answer, as the drain timer of a refused body once did.
 */
const here = new URL('.', import.meta.url);
const script = `
import { createServer } from 'node:http';
import { guardRequestCallbacks } from ${JSON.stringify(new URL('callback-guard.ts', here).href)};
import { runInRequestScope, runOutsideRequestScope } from ${JSON.stringify(new URL('request-scope.ts', here).href)};
import { createLogger } from ${JSON.stringify(new URL('../lib/log.ts', here).href)};

const log = createLogger({ sink: process.stderr, level: 'info' });
const server = createServer((req, res) => {
  const scope = { method: req.method, path: req.url, res, log, redact: (text) => text };
  runInRequestScope(scope, () => {
    if (req.url === '/later') {
      res.end('answered\\n');
      setTimeout(() => { throw new TypeError('a callback of /later failed'); }, 20);
    } else if (req.url === '/before-answer') {
      setTimeout(() => { throw new TypeError('a callback of /before-answer failed'); }, 20);
    } else if (req.url === '/outside') {
      res.end('bye\\n');
      runOutsideRequestScope(() => setTimeout(() => { throw new Error('not a request error'); }, 20));
    } else res.end('ok\\n');
  });
});
server.listen(0, '127.0.0.1', () => {
  guardRequestCallbacks(log);
  console.log(server.address().port);
});
`;

async function startChild(): Promise<{ port: number; stderr: () => string; exited: Promise<number | null>; kill: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-guard-'));
  const file = join(dir, 'server.ts');
  writeFileSync(file, script);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once('exit', () => reject(new Error(`the child exited: ${stderr}`)));
  });
  return { port, stderr: () => stderr, exited, kill: () => child.kill('SIGKILL') };
}

test('an error a request\'s callback throws is logged with its stack and answered, and the process keeps serving; any other still ends it', { timeout: 30_000 }, async () => {
  const child = await startChild();
  try {
    const base = `http://127.0.0.1:${child.port}`;
    assert.equal(await (await fetch(`${base}/later`)).text(), 'answered\n');
    const early = await fetch(`${base}/before-answer`);
    assert.equal(early.status, 500, 'a request whose callback failed before it answered gets INTERNAL');
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'INTERNAL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await (await fetch(`${base}/`)).text(), 'ok\n', 'still serving');
    const logged = child.stderr().split('\n').filter((line) => line.includes('"request failed"'));
    assert.equal(logged.length, 2, child.stderr());
    assert.match(logged[0], /a callback of \/later failed/);
    assert.match(logged[0], /"stack":"TypeError/);

    // Not the API's to judge: Node prints it and exits with 1, as without the guard.
    await fetch(`${base}/outside`);
    assert.equal(await child.exited, 1, child.stderr());
    assert.match(child.stderr(), /Error: not a request error/);
  } finally {
    child.kill();
  }
});
