/**
 * docker build for a release: the uploaded folder is the context, packed by the same function and rules
 * as the upload (../../archive/pack.ts: never env files, .git or node_modules, whatever .berthignore or
 * .dockerignore say), with the app's own Dockerfile or one berth generates for Node apps. Builds run one
 * at a time with capped memory and CPU, so the apps already running keep their share of the machine.
 *
 * The image is tagged `<app>:<build id>` (and `<app>:<commit>` when known), but only where that tag is
 * free or already berth's own (./tags.ts): berth never moves a tag off an image it did not build.
 *
 * The images the Dockerfile builds FROM are pulled first when missing (./base-images.ts, ./images.ts), so
 * the build log shows the pull, a private registry gets berth's credentials, and a pull that fails says
 * why (the registry is unreachable, the image was not found) instead of a build failure; a FROM the build
 * had to pull itself and could not is reported the same way (./pull-errors.ts: baseImageError).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packDirectory } from '../../archive/pack.ts';
import { fail } from '../../errors/catalogue.ts';
import { planBuild, readSource } from '../build-plan.ts';
import type { BuildRequest, BuildResult, ImageRuntime } from '../driver.ts';
import { baseImages } from './base-images.ts';
import { STATIC_SERVER_PATH } from './container-spec.ts';
import { BUILD_DIR, nodeDockerfile } from './dockerfile.ts';
import type { DockerEngine } from './engine.ts';
import { baseLabels, imageTag, LABEL } from './names.ts';
import { baseImageError } from './pull-errors.ts';
import { describePull } from './pull-progress.ts';
import { tagOwnImage } from './tags.ts';

export interface BuildCaps {
  memoryBytes: number;
  cpus: number;
}

const STATIC_SERVER = new URL('../../static/static-server.js', import.meta.url);
const GENERATED_DOCKERFILE = `${BUILD_DIR}/Dockerfile`;

/** The engine's words when an image a build step resolved (a cache hit) no longer exists. */
const CACHE_LAYER_GONE = /unable to find image "sha256:[0-9a-f]{64}"/;

export async function buildImage(options: { engine: DockerEngine; images: ImageRuntime; request: BuildRequest; ownerId: string; nodeImage: string; caps: BuildCaps }): Promise<BuildResult> {
  const { engine, request } = options;
  const dir = request.sourceDir;
  const source = readSource(dir);
  // The build stage's labels stay the same from build to build, so its layers remain a cache hit.
  const stageLabels = baseLabels(options.ownerId, 'build-stage', request.app);
  const own = request.dockerfile ?? (source.files.has('Dockerfile') ? 'Dockerfile' : undefined);
  // Which Dockerfile decides how locked down its containers are (./container-spec.ts: containerSecurity).
  const labels = { ...baseLabels(options.ownerId, 'image', request.app), [LABEL.build]: request.buildId, [LABEL.dockerfile]: own ? 'own' : 'generated' };
  let dockerfile: string;
  let inferredCommand: string | undefined;
  // Files the build needs in the context whatever the ignore files say (docker itself always sends the Dockerfile).
  const keep: string[] = [];
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
    // The generated Dockerfile copies these by name before the sources.
    keep.push(...['package.json', 'package-lock.json'].filter((name) => source.files.has(name)));
    mkdirSync(join(dir, BUILD_DIR), { recursive: true });
    if (request.staticRoot) {
      copyFileSync(STATIC_SERVER, join(dir, STATIC_SERVER_PATH));
      keep.push(STATIC_SERVER_PATH);
    }
    writeFileSync(
      join(dir, GENERATED_DOCKERFILE),
      nodeDockerfile({
        baseImage: options.nodeImage,
        plan,
        hasLockfile: source.files.has('package-lock.json'),
        hasProductionDependencies: Object.keys(source.packageJson?.dependencies ?? {}).length > 0,
        labels: stageLabels,
        ...(request.staticRoot ? { staticRoot: request.staticRoot } : {}),
      }),
    );
    dockerfile = GENERATED_DOCKERFILE;
    inferredCommand = plan.inferredCommand;
  }
  keep.push(dockerfile);
  await pullBaseImages(options.images, readFileSync(join(dir, dockerfile), 'utf8'), request);

  // The build tags its image with the build id, a fresh random id (so no one else's tag, and the image is
  // never dangling, which berth prunes); the commit tag is added afterwards, checked right before it moves.
  const primary = imageTag(request.app, request.buildId);

  // The step a failure happened in: a FROM that could not be pulled is that pull's error.
  let step: string | undefined;
  const log = (line: string) => {
    if (line.startsWith('Step ')) step = line;
    request.log(line);
  };
  let imageId: string;
  for (let attempt = 1; ; attempt++) {
    const packed = await packDirectory(dir, { extraIgnore: dockerignore(dir), keep });
    try {
      ({ imageId } = await engine.buildImage(
        packed.stream,
        {
          tags: [primary],
          labels,
          dockerfile,
          memoryBytes: options.caps.memoryBytes,
          cpuPeriod: 100_000,
          cpuQuota: Math.round(options.caps.cpus * 100_000),
          signal: request.signal,
        },
        log,
      ));
      break;
    } catch (error) {
      if (request.signal.aborted) throw request.signal.reason;
      const message = (error as Error).message;
      // A cached layer the engine picked was removed under the build (another build's leftovers being
      // cleaned up): a second build does not pick it again.
      if (attempt === 1 && CACHE_LAYER_GONE.test(message)) {
        request.log('berth: a cached layer was removed during the build; building again');
        continue;
      }
      throw (baseImageError(message, step) ?? fail('BUILD_FAILED', { reason: buildFailure(message) })).because(error);
    }
  }
  if (request.gitSha) {
    const tagged = await tagOwnImage(engine, { image: imageId, ref: imageTag(request.app, request.gitSha), ownerId: options.ownerId });
    if (tagged.warning) request.log(`berth: warning: ${tagged.warning}`);
  }
  return { artifact: imageId, ...(inferredCommand !== undefined ? { inferredCommand } : {}) };
}

/** The Dockerfile's base images that are missing, pulled with their progress in the build log (`berth: pulling node:24-slim`). */
async function pullBaseImages(images: ImageRuntime, dockerfile: string, request: BuildRequest): Promise<void> {
  for (const image of baseImages(dockerfile)) {
    let announced = false;
    const { pulled } = await images.ensure(image, {
      signal: request.signal,
      onPull: (progress) => {
        // The build log gets the start and the end; the live figures go to onPull only.
        if (!announced || progress.done) request.log(`berth: ${describePull(progress)}`);
        announced = true;
        request.onPull?.(progress);
      },
    });
    if (pulled && !announced) request.log(`berth: pulled ${image}`);
  }
}

/** The engine's "The command '/bin/sh -c npm run build' returned a non-zero code: 1", said berth's way. */
export function buildFailure(message: string): string {
  const match = /The command '(?:\/bin\/sh -c )?(.+)' returned a non-zero code: (\d+)/s.exec(message);
  return match ? `\`${match[1]}\` exited with code ${match[2]}` : message.trim();
}

/**
 * .dockerignore adds to berth's own exclusions, read as .berthignore is (the gitignore subset of
 * ../../archive/ignore.ts): its lines go to the packer as written, which skips comments and blanks itself,
 * and applies them before the exclusions nothing undoes (a `!.env` line brings no env file back).
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
