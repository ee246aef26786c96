/** `berth releases <app>`: the releases to roll back to, newest first. */
import type { Release, ReleaseList } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { formatAgo, formatTable, orDash } from '../format.ts';
import type { Style } from '../io.ts';

export const spec: CommandSpec = {
  name: 'releases',
  usage: 'berth releases <app>',
  summary: 'List an app\'s releases: current, warm (instant rollback), kept, pruned.',
  details: ['--json prints the API\'s `{ releases }`.'],
  flags: {},
  args: ['<app>'],
};

export interface ReleasesArgs {
  globals: Globals;
  app: string;
}

export function parse(argv: string[]): ReleasesArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, app: positionals[0] };
}

/**
 * What rolling back to the release would mean: `current` serves now, `warm` still runs in standby (instant),
 * `kept` is on disk (starts and passes the health check first), `pruned` and `failed` cannot be used.
 */
export function versionCell(release: Release, style: Style): string {
  if (release.current) return style.green(`${release.name} (current)`);
  if (release.status === 'pruned') return style.dim(`${release.name} (pruned)`);
  if (release.status === 'failed') return style.red(`${release.name} (failed)`);
  if (release.warm) return style.cyan(`${release.name} (warm)`);
  if (release.rollbackable) return `${release.name} (kept)`;
  return release.name;
}

/** `0123456789ab-dirty` -> `0123456-dirty`; `-` when the deploy was not from a git checkout. */
const shortSha = (sha: string | null): string => (sha ? sha.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1') : '-');

/** `ghcr.io/acme/web@sha256:3f2a...` -> `sha256:3f2a1b9c4d5e`; a local image id likewise. */
const shortDigest = (image: string): string => /sha256:[0-9a-f]{12}/.exec(image)?.[0] ?? image;

export function formatReleases(app: string, releases: Release[], now: number, style: Style): string {
  if (releases.length === 0) return `${app} has no releases yet: \`berth deploy --app ${app}\`\n`;
  const rows = releases.map((release) => {
    // An image app's release: the digest it runs (`sha256:3f2a1b9c4d5e`), where a built one shows its commit.
    const commit = release.image ? shortDigest(release.image) : shortSha(release.gitSha);
    // `berth deploy` starts the description with the same short sha (gitHeaders in deploy.ts): say it once.
    const description = release.gitSha && release.description.startsWith(`${commit} `) ? release.description.slice(commit.length + 1) : release.description;
    return [versionCell(release, style), release.id, formatAgo(release.createdAt, now), commit, orDash(description)];
  });
  const source = releases.some((release) => release.image) ? (releases.some((release) => release.gitSha) ? 'COMMIT/IMAGE' : 'IMAGE') : 'COMMIT';
  let text = formatTable(['VERSION', 'ID', 'CREATED', source, 'DESCRIPTION'], rows, style);
  const warm = releases.find((release) => release.warm && !release.current);
  if (warm) text += `\nwarm releases still run in standby: \`berth rollback ${app} ${warm.name}\` switches back instantly\n`;
  return text;
}

export async function run(args: ReleasesArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const body = await client.get<ReleaseList>(appPath(args.app, '/releases'));
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatReleases(args.app, body.releases, ctx.now(), ctx.out));
  return 0;
}
