/**
 * The commands, in the order `berth --help` lists them. Modules load only when their command runs (or
 * its help is asked for), so starting the CLI costs one small import, not the whole tree.
 */
import type { CommandSpec, Globals } from './args.ts';
import type { Context } from './context.ts';

export interface CommandModule {
  spec: CommandSpec;
  /** Turns argv (everything after the command name) into the command's arguments; throws USAGE errors. */
  parse(argv: string[]): { globals: Globals };
  run(args: never, ctx: Context): Promise<number>;
  /** Help for `berth <command> <argv...> --help` when it depends on a subcommand. */
  helpFor?(argv: string[]): string;
}

type Loader = () => Promise<CommandModule>;

export const COMMAND_GROUPS: { title: string; commands: Record<string, Loader> }[] = [
  {
    title: 'deploying',
    commands: {
      init: () => import('./commands/init.ts'),
      deploy: () => import('./commands/deploy.ts'),
      rollback: () => import('./commands/rollback.ts'),
      promote: () => import('./commands/promote.ts'),
      abort: () => import('./commands/abort.ts'),
      env: () => import('./commands/env.ts'),
      scale: () => import('./commands/scale.ts'),
      run: () => import('./commands/run.ts'),
      policy: () => import('./commands/policy.ts'),
    },
  },
  {
    title: 'looking at apps',
    commands: {
      apps: () => import('./commands/apps.ts'),
      status: () => import('./commands/status.ts'),
      top: () => import('./commands/top.ts'),
      releases: () => import('./commands/releases.ts'),
      logs: () => import('./commands/logs.ts'),
      health: () => import('./commands/health.ts'),
      events: () => import('./commands/events.ts'),
      audit: () => import('./commands/audit.ts'),
    },
  },
  {
    title: 'managing apps',
    commands: {
      create: () => import('./commands/create.ts'),
      destroy: () => import('./commands/destroy.ts'),
      chaos: () => import('./commands/chaos.ts'),
    },
  },
  {
    title: 'running berth',
    commands: {
      up: () => import('./commands/up.ts'),
      down: () => import('./commands/down.ts'),
      server: () => import('./commands/server.ts'),
      doctor: () => import('./commands/doctor.ts'),
      certs: () => import('./commands/certs.ts'),
    },
  },
  {
    title: 'connecting',
    commands: {
      login: () => import('./commands/login.ts'),
      logout: () => import('./commands/logout.ts'),
      registry: () => import('./commands/registry.ts'),
      notify: () => import('./commands/notify.ts'),
      version: () => import('./commands/version.ts'),
    },
  },
];

export const COMMAND_NAMES: string[] = COMMAND_GROUPS.flatMap((group) => Object.keys(group.commands));

export function findCommand(name: string): Loader | undefined {
  for (const group of COMMAND_GROUPS) if (Object.hasOwn(group.commands, name)) return group.commands[name];
  return undefined;
}
