/**
 * docker build for a release: the uploaded folder is the context (never .env files, .git or
 * node_modules), with the app's own Dockerfile or one berth generates for Node apps. Builds run one at
 * a time with capped memory and CPU, so the apps already running keep their share of the machine.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packDirectory } from '../../archive/pack.ts';
import { fail } from '../../errors/catalogue.ts';
import { planBuild, readSource } from '../build-plan.ts';
import type { BuildRequest, BuildResult } from '../driver.ts';
import { STATIC_SERVER_PATH } from './container-spec.ts';
import { nodeDockerfile } from './dockerfile.ts';
import type { DockerEngine } from './engine.ts';
import { baseLabels, imageTag, LABEL } from './names.ts';

export interface BuildCaps {
  memoryBytes: number;
  cpus: number;
}

const STATIC_SERVER = new URL('../../static/static-server.js', import.meta.url);
const GENERATED_DOCKERFILE = '.berth-build/Dockerfile';

export async function buildImage(options: { engine: DockerEngine; request: BuildRequest; ownerId: string; nodeImage: string; caps: BuildCaps }): Promise<BuildResult> {
  const { engine, request } = options;
  const dir = request.sourceDir;
  const source = readSource(dir);
  const labels = { ...baseLabels(options.ownerId, 'image', request.app), [LABEL.build]: request.buildId };
  // The build stage's labels stay the same from build to build, so its layers remain a cache hit.
  const stageLabels = baseLabels(options.ownerId, 'build-stage', request.app);
  const own = request.dockerfile ?? (source.files.has('Dockerfile') ? 'Dockerfile' : undefined);
  let dockerfile: string;
  let inferredCommand: string | undefined;
  if (own) {
    if (!existsSync(join(dir, own))) throw fail('BUILD_FAILED', { reason: `the manifest names ${own}, which is not in the uploaded folder` });
    dockerfile = own;
    // The image's own CMD runs unless the manifest names a command.
    inferredCommand = '';
  } else {
    if (!source.packageJson && !request.staticRoot) {
      throw fail('BUILD_FAILED', { reason: 'there is neither a Dockerfile nor a package.json to build from: add a Dockerfile to the app' });
    }
    const plan = planBuild({ packageJson: source.packageJson, files: source.files, command: request.command });
    mkdirSync(join(dir, '.berth-build'), { recursive: true });
    if (request.staticRoot) copyFileSync(STATIC_SERVER, join(dir, STATIC_SERVER_PATH));
    writeFileSync(
      join(dir, GENERATED_DOCKERFILE),
      nodeDockerfile({
        baseImage: options.nodeImage,
        plan,
        hasLockfile: source.files.has('package-lock.json'),
        labels: stageLabels,
        ...(request.staticRoot ? { staticRoot: request.staticRoot } : {}),
      }),
    );
    dockerfile = GENERATED_DOCKERFILE;
    inferredCommand = plan.inferredCommand;
  }
  const packed = await packDirectory(dir, { extraIgnore: dockerignore(dir) });
  try {
    const { imageId } = await engine.buildImage(
      packed.stream,
      {
        tags: [imageTag(request.app, request.buildId), ...(request.gitSha ? [imageTag(request.app, request.gitSha)] : [])],
        labels,
        dockerfile,
        memoryBytes: options.caps.memoryBytes,
        cpuPeriod: 100_000,
        cpuQuota: Math.round(options.caps.cpus * 100_000),
        signal: request.signal,
      },
      request.log,
    );
    return { artifact: imageId, ...(inferredCommand !== undefined ? { inferredCommand } : {}) };
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason;
    throw fail('BUILD_FAILED', { reason: buildFailure((error as Error).message) });
  }
}

/** The engine's "The command '/bin/sh -c npm run build' returned a non-zero code: 1", said berth's way. */
export function buildFailure(message: string): string {
  const match = /The command '(?:\/bin\/sh -c )?(.+)' returned a non-zero code: (\d+)/s.exec(message);
  return match ? `\`${match[1]}\` exited with code ${match[2]}` : message.trim();
}

/**
 * .dockerignore adds to berth's own exclusions, read as .berthignore is (the gitignore subset of
 * ../../archive/ignore.ts): its lines go to the packer as written, which skips comments and blanks itself.
 */
export function dockerignore(dir: string): string[] {
  const file = join(dir, '.dockerignore');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
}

/** One build at a time (or `limit`): a queue every build goes through. */
export class BuildQueue {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit = 1) {
    this.#limit = limit;
  }

  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', cancel);
          resolve();
        };
        const cancel = () => {
          const i = this.#waiting.indexOf(go);
          if (i !== -1) this.#waiting.splice(i, 1);
          reject(signal!.reason);
        };
        this.#waiting.push(go);
        signal?.addEventListener('abort', cancel, { once: true });
      });
    }
    this.#running++;
    try {
      return await job();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
