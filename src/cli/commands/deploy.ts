/**
 * `berth deploy [dir]`: checks berth.yaml here first (a typo fails in a second, not after an upload),
 * packs the folder, streams it to the server and follows the deployment to its end. `--image REF` deploys
 * a prebuilt image instead: nothing is uploaded but the folder's berth.yaml, if it has one.
 */
import { spawnSync } from 'node:child_process';
import { basename, relative, resolve } from 'node:path';
import { ENV_REASON, packDirectory, type Skipped } from '../../archive/pack.ts';
import { normalizeAppName } from '../../manifest/app-name.ts';
import { closest } from '../../manifest/suggest.ts';
import { loadManifest, parseManifest, resolveAppName } from '../../manifest/load.ts';
import { readManifestFile } from '../../manifest/manifest-file.ts';
import type { Deployment, DeploymentAccepted } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_INTERRUPTED, isAbort } from '../errors.ts';
import { followWithView, progressViewFor, reportOutcome } from '../follow.ts';
import { readPackageJson } from '../project.ts';

export const spec: CommandSpec = {
  name: 'deploy',
  usage: 'berth deploy [dir] [--app NAME] [--image REF] [--strategy blue-green|rolling|canary] [--skip-checks] [--wait] [--detach]',
  summary: 'Upload an app folder and release it once it is healthy.',
  details: [
    'berth.yaml is validated before anything is uploaded. The app name is --app, else berth.yaml `name`, else package.json "name", else the folder name; the first deploy creates the app.',
    'Files listed in .berthignore are left out. .git, node_modules and every name starting with .env (.env.production, .env.example, .envrc) always are, whatever .berthignore says: set secrets with `berth env set`.',
    '--image REF deploys a prebuilt image (docker runtime) instead of the folder: the server resolves the tag to a digest, pulls it and runs it with the folder\'s berth.yaml if there is one (its `image:` replaced by REF); the app name is then --app, else berth.yaml `name`, else the image\'s name. `berth registry login` gives the server access to a private registry.',
    '--strategy replaces berth.yaml `deploy.strategy` for this deploy. --skip-checks skips berth.yaml `checks:`; the deployment\'s events and `berth audit` record that it did.',
    'With --json, progress goes to stderr and stdout gets the final Deployment.',
  ],
  flags: {
    app: { type: 'string', short: 'a', value: 'NAME', doc: 'deploy as this app, whatever berth.yaml says' },
    wait: { type: 'boolean', doc: 'if the app is already deploying, queue behind it instead of failing' },
    detach: { type: 'boolean', doc: 'print the deployment id once uploaded and return without following it' },
    image: { type: 'string', value: 'REF', doc: 'deploy this image (such as ghcr.io/acme/web:1.4) instead of the folder' },
    strategy: { type: 'string', value: 'NAME', doc: 'blue-green, rolling or canary for this deploy, instead of berth.yaml\'s' },
    'skip-checks': { type: 'boolean', doc: 'do not run berth.yaml `checks:` (recorded in the audit)' },
  },
  args: ['[dir]'],
};

export interface DeployArgs {
  globals: Globals;
  dir: string;
  app?: string;
  image?: string;
  strategy?: string;
  skipChecks: boolean;
  wait: boolean;
  detach: boolean;
}

export function parse(argv: string[]): DeployArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  return {
    globals,
    dir: positionals[0] ?? '.',
    app: flags.app as string | undefined,
    ...(typeof flags.image === 'string' ? { image: flags.image } : {}),
    ...(typeof flags.strategy === 'string' ? { strategy: checkStrategyFlag(flags.strategy) } : {}),
    skipChecks: flags['skip-checks'] === true,
    wait: flags.wait === true,
    detach: flags.detach === true,
  };
}

/** `skipped .env (env file: use `berth env set`)`: why a file the user may expect to go was left out. */
export function formatSkipped(skipped: Skipped): string {
  const reason = skipped.reason === ENV_REASON ? 'env file: use `berth env set`' : skipped.reason.replace(/^(.*?) \((.*)\)$/, '$1: $2');
  return `skipped ${skipped.path} (${reason})`;
}

export interface DeployFolderOptions {
  dir: string;
  app?: string;
  strategy?: string;
  skipChecks?: boolean;
  wait: boolean;
  detach: boolean;
}

/**
 * The deploy path shared with `berth up`. Returns the final Deployment, the accepted one when detached,
 * or undefined when the user stopped following with Ctrl-C (already reported).
 */
export async function deployFolder(ctx: Context, options: DeployFolderOptions): Promise<Deployment | undefined> {
  const dir = resolve(ctx.io.cwd, options.dir);
  const { manifest } = await loadManifest(dir);
  const pkg = await readPackageJson(dir);
  const app = resolveAppName({ flag: options.app, manifest, packageJsonName: pkg?.name, dirName: basename(dir) });
  const packed = await packDirectory(dir);
  const client = await ctx.client();

  const log = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  const rel = relative(ctx.io.cwd, dir);
  const shown = rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
  log.write(`deploying ${app} from ${shown} to ${client.url}\n`);
  for (const skipped of packed.skipped) log.write(`${formatSkipped(skipped)}\n`);

  const view = progressViewFor(ctx, { upload: true, healthyAfter: manifest.health.healthyAfter });
  let deployment: Deployment;
  try {
    ({ deployment } = await client.upload<DeploymentAccepted>(appPath(app, '/deploys'), packed.stream, {
      query: deployQuery(options),
      headers: gitHeaders(dir),
      onProgress: (bytes) => view.uploadProgress(bytes),
      signal: ctx.interrupted(),
    }));
  } catch (error) {
    view.close();
    packed.stream.destroy();
    if (isAbort(error)) throw new CliError('upload cancelled: nothing was deployed', undefined, EXIT_INTERRUPTED);
    throw error;
  }
  view.uploadDone(packed.files.length, packed.bytes);
  if (options.detach) {
    view.close();
    return deployment;
  }
  return followWithView(ctx, deployment, view);
}

/**
 * `berth deploy --image REF`: the folder's berth.yaml (if any) is validated here with REF in place of its
 * `image:`, then sent with REF; the server resolves, pulls and deploys it.
 */
export async function deployImage(ctx: Context, options: DeployFolderOptions & { image: string }): Promise<Deployment | undefined> {
  const dir = resolve(ctx.io.cwd, options.dir);
  const file = await readManifestFile(dir);
  const manifest = parseManifest(file?.text ?? '', { file: file?.path ?? 'berth.yaml', image: options.image });
  const app = resolveAppName({ flag: options.app ?? manifest.name ?? imageAppName(options.image), manifest, dirName: basename(dir) });
  const client = await ctx.client();
  const log = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  log.write(`deploying ${app} from the image ${options.image} to ${client.url}\n`);
  const view = progressViewFor(ctx, { upload: false, healthyAfter: manifest.health.healthyAfter });
  let deployment: Deployment;
  try {
    ({ deployment } = await client.request<DeploymentAccepted>('POST', appPath(app, '/deploys/image'), {
      query: deployQuery(options),
      body: { image: options.image, ...(file ? { manifest: file.text } : {}) },
      signal: ctx.interrupted(),
    }));
  } catch (error) {
    view.close();
    if (isAbort(error)) throw new CliError('cancelled: nothing was deployed', undefined, EXIT_INTERRUPTED);
    throw error;
  }
  if (options.detach) {
    view.close();
    return deployment;
  }
  return followWithView(ctx, deployment, view);
}

/** `ghcr.io/acme/web:1.4` -> `web`: the app name an image suggests, when nothing else names the app. */
export function imageAppName(image: string): string | undefined {
  const path = image.split('@')[0].replace(/:[^/:]*$/, '');
  const name = normalizeAppName(path.slice(path.lastIndexOf('/') + 1));
  return name === '' ? undefined : name;
}

export async function run(args: DeployArgs, ctx: Context): Promise<number> {
  const deployment = args.image !== undefined ? await deployImage(ctx, { ...args, image: args.image }) : await deployFolder(ctx, args);
  if (!deployment) return EXIT_INTERRUPTED;
  if (args.detach) {
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(deployment, null, 2) + '\n' : `${deployment.id}\n`);
    return 0;
  }
  return reportOutcome(ctx, deployment);
}

/**
 * The commit the folder is at, when it is a git checkout: the server tags the image with it and shows
 * the commit's subject as the release's description. `-dirty` marks uncommitted changes.
 */
export function gitHeaders(dir: string): Record<string, string> {
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', timeout: 5000 });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const sha = git('rev-parse', '--short=12', 'HEAD');
  if (!sha) return {};
  const dirty = git('status', '--porcelain', '--', '.') ? '-dirty' : '';
  // Headers carry ASCII only: anything else in the subject is dropped.
  const subject = (git('log', '-1', '--format=%s') ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  return { 'x-berth-git-sha': `${sha}${dirty}`, ...(subject ? { 'x-berth-description': `${sha.slice(0, 7)}${dirty} ${subject}` } : {}) };
}

const STRATEGY_NAMES = ['blue-green', 'rolling', 'canary'];

/** `--strategy` checked before anything is uploaded. */
function checkStrategyFlag(value: string): string {
  if (STRATEGY_NAMES.includes(value)) return value;
  const guess = closest(value, STRATEGY_NAMES);
  throw usageError(spec, `--strategy: unknown strategy ${JSON.stringify(value)}`, guess ? `did you mean --strategy ${guess}?` : `one of: ${STRATEGY_NAMES.join(', ')}`);
}

const deployQuery = (options: DeployFolderOptions) => ({
  wait: options.wait,
  ...(options.strategy ? { strategy: options.strategy } : {}),
  ...(options.skipChecks ? { skipChecks: true } : {}),
});
