/**
 * `berth deploy [dir]`: checks berth.yaml here first (a typo fails in a second, not after an upload),
 * packs the folder, streams it to the server and follows the deployment to its end.
 */
import { spawnSync } from 'node:child_process';
import { basename, relative, resolve } from 'node:path';
import { ENV_REASON, packDirectory, type Skipped } from '../../archive/pack.ts';
import { loadManifest, resolveAppName } from '../../manifest/load.ts';
import type { Deployment, DeploymentAccepted } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_INTERRUPTED, isAbort } from '../errors.ts';
import { followWithView, progressViewFor, reportOutcome } from '../follow.ts';
import { readPackageJson } from '../project.ts';

export const spec: CommandSpec = {
  name: 'deploy',
  usage: 'berth deploy [dir] [--app NAME] [--wait] [--detach]',
  summary: 'Upload an app folder and release it once it is healthy.',
  details: [
    'berth.yaml is validated before anything is uploaded. The app name is --app, else berth.yaml `name`, else package.json "name", else the folder name; the first deploy creates the app.',
    'Files listed in .berthignore are left out. .git, node_modules and every name starting with .env (.env.production, .env.example, .envrc) always are, whatever .berthignore says: set secrets with `berth env set`.',
    'With --json, progress goes to stderr and stdout gets the final Deployment.',
  ],
  flags: {
    app: { type: 'string', short: 'a', value: 'NAME', doc: 'deploy as this app, whatever berth.yaml says' },
    wait: { type: 'boolean', doc: 'if the app is already deploying, queue behind it instead of failing' },
    detach: { type: 'boolean', doc: 'print the deployment id once uploaded and return without following it' },
  },
  args: ['[dir]'],
};

export interface DeployArgs {
  globals: Globals;
  dir: string;
  app?: string;
  wait: boolean;
  detach: boolean;
}

export function parse(argv: string[]): DeployArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, dir: positionals[0] ?? '.', app: flags.app as string | undefined, wait: flags.wait === true, detach: flags.detach === true };
}

/** `skipped .env (env file: use `berth env set`)`: why a file the user may expect to go was left out. */
export function formatSkipped(skipped: Skipped): string {
  const reason = skipped.reason === ENV_REASON ? 'env file: use `berth env set`' : skipped.reason.replace(/^(.*?) \((.*)\)$/, '$1: $2');
  return `skipped ${skipped.path} (${reason})`;
}

export interface DeployFolderOptions {
  dir: string;
  app?: string;
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
      query: { wait: options.wait },
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

export async function run(args: DeployArgs, ctx: Context): Promise<number> {
  const deployment = await deployFolder(ctx, args);
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
