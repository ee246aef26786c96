/**
 * Base images for tests that run containers. No registry is reachable, so images are made from this
 * machine's files (../shared/docs/environment.md): a root filesystem written as a tar in Node and imported
 * with the Engine API (POST /images/create?fromSrc=-). Each image carries the label
 * `berth.test-image=<hash of what went in + recipe version>` and is made again only when that changes.
 *
 * Several test files (separate processes) may ask at once: a lock file in os.tmpdir() lets one of them
 * build while the others wait, then find the image there.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, realpathSync } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { BLOCK_SIZE, encodeHeader, encodePax, paddingFor } from '../../src/archive/tar-format.ts';
import { createDockerEngine, defaultSocketPath } from '../../src/runtime/docker/engine-http.ts';
import { jsonObjects } from '../../src/runtime/docker/engine-streams.ts';
import { createTransport, EngineError } from '../../src/runtime/docker/engine-transport.ts';
import { isDead, readStat } from '../../src/lib/proc.ts';

const run = promisify(execFile);

/** Bump when what goes into the images changes, so every machine makes them again. */
const RECIPE_VERSION = 1;
export const IMAGE_LABEL = 'berth.test-image';
export const NODE_IMAGE = 'berth-test/node:24';
export const REDIS_IMAGE = 'berth-test/redis:7';
export const BUSYBOX_IMAGE = 'berth-test/busybox:1';

/** Node 24 (this process's own binary) with npm, busybox tools and the CA bundle; user `node` is uid 1000. */
export async function ensureNodeImage(): Promise<string> {
  if (!process.version.startsWith('v24.')) {
    throw new Error(`${NODE_IMAGE} is made from the running node binary, which is ${process.version}: run the tests with Node 24 (npm test)`);
  }
  const npmDir = findNpm();
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')) as { version: string }).version;
  return ensureImage(NODE_IMAGE, { node: process.version, npm: npmVersion }, async () => {
    const root = rootfs();
    await addBusybox(root);
    root.file('/usr/local/bin/node', process.execPath, 0o755);
    await root.libraries(process.execPath);
    await root.tree(npmDir, '/usr/local/lib/npm');
    root.symlink('/usr/local/bin/npm', '../lib/npm/bin/npm-cli.js');
    root.symlink('/usr/local/bin/npx', '../lib/npm/bin/npx-cli.js');
    root.symlink('/usr/bin/env', '/bin/busybox');
    root.file('/etc/ssl/certs/ca-certificates.crt', requireFile('/etc/ssl/certs/ca-certificates.crt', 'ca-certificates'), 0o644);
    root.users([
      { name: 'root', id: 0, home: '/root' },
      { name: 'node', id: 1000, home: '/app' },
    ]);
    root.dir('/app', 0o755, 1000);
    return {
      root,
      changes: ['ENV PATH=/usr/local/bin:/bin', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', 'WORKDIR /app'],
    };
  });
}

/** Debian's redis-server and redis-cli with their libraries; listens on 6379 for other containers. */
export async function ensureRedisImage(): Promise<string> {
  const server = requireFile('/usr/bin/redis-server', 'redis-server');
  const cli = requireFile('/usr/bin/redis-cli', 'redis-tools');
  const { stdout: version } = await run(server, ['--version']);
  return ensureImage(REDIS_IMAGE, { redis: version.trim() }, async () => {
    const root = rootfs();
    await addBusybox(root);
    // redis-server is a link to redis-check-rdb, which acts as the server when called by that name.
    root.file('/usr/local/bin/redis-server', server, 0o755);
    await root.libraries(server);
    root.file('/usr/local/bin/redis-cli', cli, 0o755);
    await root.libraries(cli);
    root.users([
      { name: 'root', id: 0, home: '/root' },
      { name: 'redis', id: 999, home: '/data' },
    ]);
    root.dir('/data', 0o755, 999);
    return {
      root,
      changes: [
        'ENV PATH=/usr/local/bin:/bin',
        'WORKDIR /data',
        'USER redis',
        'EXPOSE 6379',
        // Other containers on the network connect without a password: protected mode would refuse them.
        'CMD ["redis-server", "--protected-mode", "no", "--dir", "/data"]',
      ],
    };
  });
}

/** Only busybox (static, no libraries): a 1 MB image for tests that just need a shell and a few tools. */
export async function ensureBusyboxImage(): Promise<string> {
  const busybox = busyboxPath();
  const info = await stat(busybox);
  return ensureImage(BUSYBOX_IMAGE, { busybox: `${info.size}:${info.mtimeMs}` }, async () => {
    const root = rootfs();
    await addBusybox(root);
    root.users([
      { name: 'root', id: 0, home: '/root' },
      { name: 'nobody', id: 65534, home: '/' },
    ]);
    return { root, changes: ['ENV PATH=/bin', 'CMD ["sh"]'] };
  });
}

interface Recipe {
  root: RootFs;
  /** Dockerfile instructions the import applies (ENV, CMD, USER, WORKDIR, EXPOSE, LABEL). */
  changes: string[];
}

async function ensureImage(ref: string, inputs: Record<string, unknown>, make: () => Promise<Recipe>): Promise<string> {
  const socketPath = defaultSocketPath();
  const engine = createDockerEngine({ socketPath });
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipe: RECIPE_VERSION, ref, ...inputs }))
    .digest('hex')
    .slice(0, 16);
  const current = async () => {
    const image = await engine.inspectImage(ref);
    return { image, fresh: image?.Labels?.[IMAGE_LABEL] === hash };
  };
  if ((await current()).fresh) return ref;

  await withLock(join(tmpdir(), `berth-test-image-${ref.replace(/[^a-z0-9]+/gi, '_')}.lock`), async () => {
    const { image: previous, fresh } = await current();
    if (fresh) return;
    const recipe = await make();
    await importImage(socketPath, recipe.root.stream(), ref, [...recipe.changes, `LABEL ${IMAGE_LABEL}=${hash}`]);
    // The tag moved to the new image; the old one goes unless a container still uses it.
    if (previous) await engine.removeImage(previous.Id).catch(() => undefined);
  });
  return ref;
}

/** POST /images/create?fromSrc=- : the tar is the body, the answer a JSON message stream like a build's. */
async function importImage(socketPath: string, tar: Readable, ref: string, changes: string[]): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const transport = createTransport({ socketPath, timeoutMs: 60_000 });
  const signal = AbortSignal.timeout(5 * 60_000);
  const res = await transport.open('POST', '/images/create', {
    query: { fromSrc: '-', repo: ref.slice(0, colon), tag: ref.slice(colon + 1), changes },
    body: tar,
    contentType: 'application/x-tar',
    signal,
  });
  try {
    for await (const message of jsonObjects(res)) {
      if (message.error !== undefined) throw new EngineError(500, `importing ${ref}: ${String(message.error)}`);
    }
  } finally {
    res.destroy();
  }
}

const STALE_LOCK_MS = 5 * 60_000;

/** Runs `fn` while holding an exclusive lock file; a lock whose holder died is taken over. Bounded wait. */
async function withLock(path: string, fn: () => Promise<void>, timeoutMs = 10 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(path, 'utf8').catch(() => ''));
    const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now());
    // A dead holder, or one holding far longer than any build takes (its pid reused since), left it behind.
    if ((holder > 0 && isDead(readStat(holder))) || age > STALE_LOCK_MS) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${path} (held by pid ${holder || 'unknown'})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

function requireFile(path: string, aptPackage: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with \`apt-get install -y ${aptPackage}\` (.ci/run does)`);
  return path;
}

function busyboxPath(): string {
  for (const path of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(path)) return path;
  return requireFile('/bin/busybox', 'busybox-static');
}

async function addBusybox(root: RootFs): Promise<void> {
  const busybox = busyboxPath();
  const { stdout: linked } = await run('ldd', [busybox]).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ''}${error.stderr ?? ''}` }));
  if (!/not a dynamic executable|statically linked/.test(linked)) {
    throw new Error(`${busybox} is not statically linked: install it with \`apt-get install -y busybox-static\``);
  }
  root.file('/bin/busybox', busybox, 0o755);
  const { stdout } = await run(busybox, ['--list']);
  for (const applet of stdout.split('\n').map((name) => name.trim())) {
    if (applet && applet !== 'busybox' && !applet.includes('/')) root.symlink(`/bin/${applet}`, 'busybox');
  }
  root.dir('/tmp', 0o1777);
  root.dir('/root', 0o700);
}

/** npm as installed on this machine (Debian's nodejs/npm put it in /usr/lib/node_modules/npm). */
function findNpm(): string {
  const candidates = ['/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm', join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm')];
  for (const bin of ['/usr/bin/npm', '/usr/local/bin/npm']) {
    if (existsSync(bin)) candidates.push(dirname(dirname(realpathSync(bin))));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'bin', 'npm-cli.js')));
  if (!found) throw new Error(`npm not found (looked in ${candidates.join(', ')}): install it with \`apt-get install -y npm\``);
  return found;
}

interface RootEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  /** For files: the host file whose content (links followed) goes in; or the content itself. */
  source?: string;
  data?: Buffer;
  target?: string;
}

interface RootFs {
  file(path: string, source: string, mode: number): void;
  text(path: string, data: string, mode?: number): void;
  dir(path: string, mode?: number, uid?: number): void;
  symlink(path: string, target: string): void;
  /** Adds the shared libraries `ldd` lists for `binary`, at their own paths, links followed. */
  libraries(binary: string): Promise<void>;
  /** Copies a host folder (files, folders, links as links). */
  tree(hostDir: string, imageDir: string): Promise<void>;
  users(list: { name: string; id: number; home: string }[]): void;
  stream(): Readable;
}

function rootfs(): RootFs {
  const entries = new Map<string, RootEntry>();
  const parents = (path: string) => {
    for (let dir = posix.dirname(path); dir !== '/' && !entries.has(dir); dir = posix.dirname(dir)) {
      entries.set(dir, { type: 'dir', mode: 0o755, uid: 0 });
    }
  };
  const put = (path: string, entry: RootEntry) => {
    parents(path);
    entries.set(path, entry);
  };
  const root: RootFs = {
    file: (path, source, mode) => put(path, { type: 'file', mode, uid: 0, source }),
    text: (path, data, mode = 0o644) => put(path, { type: 'file', mode, uid: 0, data: Buffer.from(data) }),
    dir: (path, mode = 0o755, uid = 0) => put(path, { type: 'dir', mode, uid }),
    symlink: (path, target) => {
      if (!entries.has(path)) put(path, { type: 'symlink', mode: 0o777, uid: 0, target });
    },
    async libraries(binary) {
      const { stdout } = await run('ldd', [binary]);
      for (const lib of stdout.match(/\/[^\s)]+/g) ?? []) put(lib, { type: 'file', mode: 0o755, uid: 0, source: lib });
    },
    async tree(hostDir, imageDir) {
      put(imageDir, { type: 'dir', mode: 0o755, uid: 0 });
      for (const item of await readdir(hostDir, { withFileTypes: true })) {
        const host = join(hostDir, item.name);
        const image = posix.join(imageDir, item.name);
        if (item.isSymbolicLink()) put(image, { type: 'symlink', mode: 0o777, uid: 0, target: await readlink(host) });
        else if (item.isDirectory()) await root.tree(host, image);
        else if (item.isFile()) put(image, { type: 'file', mode: (await lstat(host)).mode & 0o777, uid: 0, source: host });
      }
    },
    users(list) {
      root.text('/etc/passwd', list.map((u) => `${u.name}:x:${u.id}:${u.id}::${u.home}:/bin/sh\n`).join(''));
      root.text('/etc/group', list.map((u) => `${u.name}:x:${u.id}:\n`).join(''));
    },
    stream: () => Readable.from(tarChunks([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
  };
  return root;
}

const NAME_FIELD = 100;

async function* tarChunks(entries: [string, RootEntry][]): AsyncGenerator<Buffer> {
  const mtime = Math.floor(Date.now() / 1000);
  for (const [path, entry] of entries) {
    const name = entry.type === 'dir' ? `${path.slice(1)}/` : path.slice(1);
    const size = entry.type === 'file' ? (entry.data?.length ?? (await stat(entry.source!)).size) : 0;
    const pax: Record<string, string> = {};
    if (Buffer.byteLength(name) > NAME_FIELD) pax.path = name;
    if (entry.target && Buffer.byteLength(entry.target) > NAME_FIELD) pax.linkpath = entry.target;
    if (Object.keys(pax).length > 0) {
      const data = encodePax(pax);
      yield encodeHeader({ name: 'PaxHeaders/entry', typeflag: 'x', mode: 0o644, size: data.length, mtime });
      yield data;
      yield Buffer.alloc(paddingFor(data.length));
    }
    yield encodeHeader({
      name: pax.path ? name.slice(0, NAME_FIELD) : name,
      typeflag: entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0',
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.uid,
      size,
      mtime,
      linkname: pax.linkpath ? '' : (entry.target ?? ''),
    });
    if (entry.type !== 'file') continue;
    if (entry.data) yield entry.data;
    else {
      let sent = 0;
      for await (const chunk of createReadStream(entry.source!)) {
        sent += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (sent !== size) throw new Error(`${entry.source} changed size while it was being read`);
    }
    yield Buffer.alloc(paddingFor(size));
  }
  yield Buffer.alloc(2 * BLOCK_SIZE);
}
