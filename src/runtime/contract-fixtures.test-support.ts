/**
 * Fixture apps for the driver contract: each is a real Node app (server.js + package.json) for drivers
 * that run processes, plus a `.berth-fake.json` that describes the same behaviour for the fake driver.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FAKE_BEHAVIOUR_FILE, type FakeBehaviour } from './fake/behaviour.ts';

export type FixtureName = 'echo' | 'crash' | 'slow-crash' | 'exit-zero' | 'ignore-sigterm' | 'fail-build' | 'worker';

const packageJson = (name: string, scripts: Record<string, string>) =>
  JSON.stringify({ name: `fixture-${name}`, version: '1.0.0', private: true, scripts }, null, 2) + '\n';

// GET / answers {version, env}; GET /health answers 200. Shared by the serving fixtures.
const serve = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ version: 'v1', env: process.env }));
});
// HOST comes from the runtime: loopback for host processes, all interfaces inside a container.
if (process.env.PORT) server.listen(Number(process.env.PORT), process.env.HOST);
`;

const echoServer = `'use strict';
const token = process.env.SECRET_TOKEN || '';
console.log('echo: listening on ' + process.env.PORT + ' with token ' + token);
console.error('echo: warming up with token ' + token);
${serve}`;

const crashServer = `'use strict';
console.log('crash: starting');
${serve}
setTimeout(() => {
  console.error('crash: exiting with 3');
  process.exit(3);
}, 100);
`;

// Crashes too, but only after it has served a while: longer than the short window the contract gives it.
const slowCrashServer = `'use strict';
console.log('slow-crash: starting');
${serve}
setTimeout(() => {
  console.error('slow-crash: exiting with 3');
  process.exit(3);
}, 1500);
`;

// Ends on its own with code 0: still an exit berth did not ask for, so it is restarted like a crash.
const exitZeroServer = `'use strict';
console.log('exit-zero: starting');
${serve}
setTimeout(() => {
  console.log('exit-zero: done, exiting with 0');
  process.exit(0);
}, 300);
`;

const ignoreSigtermServer = `'use strict';
// The handler is installed before listening, so once the port answers SIGTERM is known to be ignored.
process.on('SIGTERM', () => console.log('ignore-sigterm: ignoring SIGTERM'));
console.log('ignore-sigterm: starting');
${serve}`;

// Ticks, and touches ./heartbeat (its liveness signal) each time.
const workerScript = `'use strict';
const fs = require('node:fs');
let n = 0;
setInterval(() => {
  console.log('tick ' + ++n);
  fs.writeFileSync('heartbeat', String(Date.now()));
}, 100);
`;

// One-off commands run from the echo artifact.
const onceScript = `'use strict';
console.log('once with token ' + (process.env.SECRET_TOKEN || ''));
process.exit(Number(process.env.EXIT_CODE || 3));
`;
const slowOnceScript = `'use strict';
console.log('slow once: starting');
setTimeout(() => console.log('slow once: done'), 30000);
`;

const fake = (behaviour: FakeBehaviour) => JSON.stringify(behaviour, null, 2) + '\n';

const fixtures: Record<FixtureName, Record<string, string>> = {
  echo: {
    'package.json': packageJson('echo', { start: 'node server.js' }),
    'server.js': echoServer,
    'once.js': onceScript,
    'slow-once.js': slowOnceScript,
    [FAKE_BEHAVIOUR_FILE]: fake({
      version: 'v1',
      health: 'ok',
      logs: ['echo: listening on ${PORT} with token ${SECRET_TOKEN}'],
      stderr: ['echo: warming up with token ${SECRET_TOKEN}'],
      oneOff: {
        'node once.js': { output: ['once with token ${SECRET_TOKEN}'], exitCode: 3 },
        'node slow-once.js': { output: ['slow once: starting'], delayMs: 30_000 },
      },
    }),
  },
  crash: {
    'package.json': packageJson('crash', { start: 'node server.js' }),
    'server.js': crashServer,
    [FAKE_BEHAVIOUR_FILE]: fake({ logs: ['crash: starting'], stderr: ['crash: exiting with 3'], crashAfterMs: 100, exitCode: 3 }),
  },
  'slow-crash': {
    'package.json': packageJson('slow-crash', { start: 'node server.js' }),
    'server.js': slowCrashServer,
    [FAKE_BEHAVIOUR_FILE]: fake({ logs: ['slow-crash: starting'], stderr: ['slow-crash: exiting with 3'], crashAfterMs: 1500, exitCode: 3 }),
  },
  'exit-zero': {
    'package.json': packageJson('exit-zero', { start: 'node server.js' }),
    'server.js': exitZeroServer,
    [FAKE_BEHAVIOUR_FILE]: fake({ logs: ['exit-zero: starting'], crashAfterMs: 300, exitCode: 0 }),
  },
  'ignore-sigterm': {
    'package.json': packageJson('ignore-sigterm', { start: 'node server.js' }),
    'server.js': ignoreSigtermServer,
    [FAKE_BEHAVIOUR_FILE]: fake({ logs: ['ignore-sigterm: starting'], ignoreSigterm: true }),
  },
  'fail-build': {
    'package.json': packageJson('fail-build', { build: 'echo boom && exit 1', start: 'node server.js' }),
    'server.js': echoServer,
    [FAKE_BEHAVIOUR_FILE]: fake({ build: 'fail', buildLog: ['boom'] }),
  },
  worker: {
    'package.json': packageJson('worker', { start: 'node worker.js' }),
    'worker.js': workerScript,
    [FAKE_BEHAVIOUR_FILE]: fake({ port: false, repeat: { everyMs: 100, line: 'tick' }, heartbeatFile: 'heartbeat' }),
  },
};

/** The files of a fixture, relative path -> content. */
export function fixtureFiles(name: FixtureName): Record<string, string> {
  return { ...fixtures[name] };
}

/** Writes files (relative path -> content) under dir, creating folders as needed. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

export async function writeFixture(name: FixtureName, dir: string): Promise<void> {
  await writeFiles(dir, fixtures[name]);
}
