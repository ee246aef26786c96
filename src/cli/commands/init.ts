/** `berth init [dir]`: writes the commented berth.yaml, the whole format learnable by reading it. */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { EDITOR_SCHEMA_PATH, manifestJsonSchema } from '../../manifest/json-schema.ts';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { initManifestText, MANIFEST_FILES, parseManifest, resolveAppName } from '../../manifest/load.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { readPackageJson } from '../project.ts';

export const spec: CommandSpec = {
  name: 'init',
  usage: 'berth init [dir] [--name NAME] [--force]',
  summary: 'Write a commented berth.yaml for an app folder.',
  details: [
    'Only `name` is set; every other section is commented out and shows its defaults, so the file changes nothing until you uncomment a part of it. The name comes from --name, else package.json "name", else the folder name.',
  ],
  flags: {
    name: { type: 'string', value: 'NAME', doc: 'the app name (it becomes <name>.<base domain>)' },
    force: { type: 'boolean', doc: 'replace an existing berth.yaml' },
  },
  args: ['[dir]'],
};

export interface InitArgs {
  globals: Globals;
  dir: string;
  name?: string;
  force: boolean;
}

export function parse(argv: string[]): InitArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, dir: positionals[0] ?? '.', name: flags.name as string | undefined, force: flags.force === true };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function run(args: InitArgs, ctx: Context): Promise<number> {
  const dir = resolve(ctx.io.cwd, args.dir);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
    throw new CliError(`${args.dir} is not a folder`, 'run `berth init` inside your app\'s folder, or pass the folder: `berth init path/to/app`');
  }
  const existing: string[] = [];
  for (const name of MANIFEST_FILES) if (await exists(join(dir, name))) existing.push(name);
  const display = (file: string) => relative(ctx.io.cwd, join(dir, file)) || file;
  if (existing.length && !args.force) {
    throw new CliError(`${display(existing[0])} already exists`, 'edit it, or pass --force to replace it with a fresh commented one');
  }
  const pkg = await readPackageJson(dir);
  const name = resolveAppName({ flag: args.name, manifest: parseManifest(''), packageJsonName: pkg?.name, dirName: basename(dir) });
  const text = initManifestText({ name, hasPackageJson: pkg !== undefined, startCommand: pkg?.startScript });
  // With --force, replace the file that is there (berth.yml too), so there is never one of each.
  const file = existing[0] ?? MANIFEST_FILES[0];
  await writeFile(join(dir, file), text, { flag: args.force ? 'w' : 'wx' });
  // The schema the modeline names, next to it: editors need nothing from the network (regenerated each time).
  await mkdir(join(dir, dirname(EDITOR_SCHEMA_PATH)), { recursive: true });
  await writeFile(join(dir, EDITOR_SCHEMA_PATH), JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify({ file: join(dir, file), name }) + '\n');
    return 0;
  }
  const where = args.dir === '.' ? '' : ` ${args.dir}`;
  ctx.io.stdout.write(`wrote ${display(file)} for app "${name}"\nnext: \`berth deploy${where}\`\n`);
  return 0;
}
