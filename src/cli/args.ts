/**
 * Command-line parsing on top of node:util parseArgs. Each command describes its flags once (a CommandSpec);
 * the same description drives parsing, `--help` and the usage line shown with every usage error.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { BerthError } from '../errors/catalogue.ts';
import { closest } from '../manifest/suggest.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help for a string flag: `--app NAME`. */
  value?: string;
  doc: string;
}

export interface CommandSpec {
  /** As typed after `berth`: `deploy`, or `env set` for a subcommand. */
  name: string;
  usage: string;
  summary: string;
  /** More help text, one paragraph per entry. */
  details?: string[];
  flags: Record<string, FlagSpec>;
  /** Positional argument names as in the usage line (`<app>`, `[dir]`); the `<...>` ones are required. */
  args: string[];
  /** The last positional may repeat (`KEY=VALUE...`). */
  variadic?: boolean;
}

export interface Globals {
  json: boolean;
  url?: string;
  token?: string;
  help: boolean;
  version: boolean;
}

/** Accepted anywhere on the command line, before or after the command. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', doc: 'print JSON (the API\'s shapes) instead of text, for scripts' },
  url: { type: 'string', value: 'URL', doc: 'the berth server (default: BERTH_URL, then `berth login`, then the local server)' },
  token: { type: 'string', value: 'TOKEN', doc: 'its bearer token (default: BERTH_TOKEN, then `berth login`, then DATA/admin-token)' },
  help: { type: 'boolean', short: 'h', doc: 'show help' },
  version: { type: 'boolean', doc: 'print the CLI version' },
};

export type FlagValues = Record<string, string | boolean | undefined>;

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
  globals: Globals;
}

export function usageError(spec: Pick<CommandSpec, 'name' | 'usage'>, message: string, hint?: string): BerthError {
  return new BerthError('USAGE', message, hint ?? `see \`berth ${spec.name} --help\``, { usage: spec.usage });
}

function parseConfig(flags: Record<string, FlagSpec>): ParseArgsOptionsConfig {
  const config: ParseArgsOptionsConfig = {};
  for (const [name, flag] of Object.entries(flags)) config[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  return config;
}

/**
 * Parses `argv` (everything after the command name) against the command's flags plus the global ones.
 * Throws USAGE errors naming the flag or argument at fault, with the command's usage line attached.
 */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): Parsed {
  const all = { ...GLOBAL_FLAGS, ...spec.flags };
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args: argv, options: parseConfig(all), allowPositionals: true, strict: true });
  } catch (error) {
    throw translateParseError(spec, all, error);
  }
  const values = result.values as FlagValues;
  const globals: Globals = {
    json: values.json === true,
    url: values.url as string | undefined,
    token: values.token as string | undefined,
    help: values.help === true,
    version: values.version === true,
  };
  const flags: FlagValues = {};
  for (const name of Object.keys(spec.flags)) flags[name] = values[name];
  const positionals = result.positionals;
  // Help and version win over everything else, so `berth deploy --help` works without its arguments.
  if (!globals.help && !globals.version) checkPositionals(spec, positionals);
  return { flags, positionals, globals };
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const required = spec.args.filter((arg) => arg.startsWith('<')).length;
  if (positionals.length < required) {
    throw usageError(spec, `missing ${spec.args[positionals.length].replace(/\.\.\.(>?)$/, '$1')}`);
  }
  if (!spec.variadic && positionals.length > spec.args.length) {
    throw usageError(spec, `unexpected argument "${positionals[spec.args.length]}"`);
  }
}

function translateParseError(spec: CommandSpec, all: Record<string, FlagSpec>, error: unknown): unknown {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? '';
  const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const names = Object.keys(all).map((name) => `--${name}`);
    const guess = flag.startsWith('--') ? closest(flag.slice(2), Object.keys(all)) : undefined;
    return usageError(
      spec,
      `unknown flag ${flag}`,
      guess ? `did you mean --${guess}? (see \`berth ${spec.name} --help\`)` : `${spec.name} accepts ${names.join(', ')}`,
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(message)) return usageError(spec, `${flag} does not take a value`);
    const name = flag.replace(/^-+/, '');
    const known = all[name] ?? Object.values(all).find((f) => f.short === name);
    return usageError(spec, `${flag} needs a value${known?.value ? ` (${known.value})` : ''}`);
  }
  return error;
}

/** `--tail 20`: a whole number of at least `min`. */
export function parseCount(spec: CommandSpec, flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw usageError(spec, `--${flag} must be a whole number of at least ${min}, not "${text}"`);
  return Number(text);
}

/** Help lines for `flags`, one a flag: `  -f, --follow  keep printing ...`, the docs aligned. */
export function flagLines(flags: Record<string, FlagSpec>): string[] {
  const rows = Object.entries(flags).map(([name, flag]) => [`${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.value ? ` ${flag.value}` : ''}`, flag.doc]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, doc]) => `  ${left.padEnd(width)}  ${doc}`);
}

/** The help page of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary];
  for (const paragraph of spec.details ?? []) lines.push('', paragraph);
  if (Object.keys(spec.flags).length) lines.push('', 'flags:', ...flagLines(spec.flags));
  lines.push('', 'global flags:', ...flagLines(GLOBAL_FLAGS));
  return lines.join('\n') + '\n';
}

/**
 * For commands with subcommands (`berth env set ...`): the first positional argument is the subcommand;
 * the rest of the line, flags included wherever they were, is its argv.
 */
export function splitSubcommand(argv: string[], flags: Record<string, FlagSpec>): { sub?: string; rest: string[] } {
  const { tokens } = parseArgs({ args: argv, options: parseConfig({ ...GLOBAL_FLAGS, ...flags }), allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  if (!first || first.kind !== 'positional') return { rest: argv };
  return { sub: first.value, rest: [...argv.slice(0, first.index), ...argv.slice(first.index + 1)] };
}
