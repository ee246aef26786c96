/**
 * The rules between sections of berth.yaml, checked on the resolved manifest once every section is
 * valid on its own: what goes with `image`, names that `depends_on` and `domains` point to, the merged
 * restart policies, the variables that service URLs go in.
 */
import { formatDuration } from '../../lib/duration.ts';
import type { ObjectRule, RuleProblem } from '../schema-dsl.ts';
import { isPlainObject } from '../show.ts';
import { closest } from '../suggest.ts';
import { suggestEnvName } from './env.ts';
import { pinsDigest } from './image-reference.ts';
import { imageName } from './images.ts';
import type { Manifest } from './keys.ts';
import { pinnedUpdate } from './update.ts';

/** The keys that build the app from its folder, which an app that runs a prebuilt `image` cannot have. */
const BUILDING_KEYS = [
  { key: 'build', message: 'is a build command, but `image` runs a prebuilt image, and berth builds nothing for it', fix: 'remove `build` to run the image, or remove `image` to build the folder' },
  { key: 'dockerfile', message: 'builds the app\'s image from its folder, but `image` names a prebuilt one to run instead', fix: 'remove `dockerfile` to run `image`, or remove `image` to build from the Dockerfile' },
  { key: 'static', message: 'serves a folder of the app, but `image` runs a prebuilt image instead of the folder', fix: 'remove `static` to run the image, or remove `image` to serve the folder' },
] as const;

export const crossSectionRules: readonly ObjectRule<Manifest>[] = [
  {
    doc: '`image` runs a prebuilt image, so nothing is built: `build`, `dockerfile` and `static` cannot be set beside it.',
    check: (m) => (m.image === undefined ? undefined : BUILDING_KEYS.filter(({ key }) => m[key] !== undefined)),
  },
  {
    doc: 'The top-level `update` follows the tag of `image`: an app built from its folder has none, and an image pinned by digest never changes.',
    check: (m) =>
      m.update === undefined ? undefined
      : m.image === undefined ? {
        key: 'update',
        message: 'follows the tag of `image`, but this app has no `image`: berth builds it from its folder, so there is no tag to follow',
        fix: 'remove `update`, or run a prebuilt image with `image:`; a service follows its own image with `services.<name>.update`',
      }
      : pinsDigest(m.image) ? pinnedUpdate()
      : undefined,
  },
  {
    doc: '`domains` needs a `web` process to route to.',
    check: (m) =>
      m.domains.length === 0 || m.processes.web ? undefined : {
        key: 'domains',
        message: 'lists hostnames, but `processes` has no `web` process to route them to',
        fix: 'add `web` under `processes`, or remove `domains`',
      },
  },
  {
    doc: '`static` is the `web` process: `processes`, when set, lists `web` without a `command`.',
    check: (m) =>
      m.static === undefined ? undefined
      : !m.processes.web ? {
        key: 'static',
        message: 'is served as the `web` process, but `processes` lists no `web`',
        fix: 'add `web:` with nothing after it under `processes`, or remove `static`',
      }
      : m.processes.web.command !== undefined ? {
        key: 'static',
        message: 'serves the folder as the `web` process, but `processes.web.command` is set too, so web would be two things',
        fix: 'remove `static` to run the command, or remove `processes.web.command` to serve the folder',
      }
      : undefined,
  },
  {
    doc: 'Each check in `checks` has its own name.',
    check: (m) =>
      m.checks.flatMap((c, i) =>
        m.checks.findIndex((other) => other.name === c.name) < i
          ? [{ key: ['checks', i, 'name'], message: `\`${c.name}\` names an earlier check too, and the deploy output and \`release.checks\` tell checks apart by name`, fix: `rename it, such as \`${c.name}-${i + 1}\`` }]
          : [],
      ),
  },
  {
    doc: 'A service and a process cannot have the same name.',
    check: (m) =>
      Object.keys(m.services).filter((name) => Object.hasOwn(m.processes, name)).map((name) => ({
        key: ['services', name],
        message: `\`${name}\` is the name of both a service (\`services.${name}\`) and a process (\`processes.${name}\`), and \`depends_on\` and the network tell them apart by name`,
        fix: `rename the service or the process, such as \`${name}-svc\``,
      })),
  },
  {
    doc: 'Each `depends_on` entry names a service or another process, and no processes wait for one another in a circle.',
    check: (m) => dependencyProblems(m),
  },
  {
    doc: 'A process\'s `restart.backoff` must not be longer than its `restart.max_backoff`, after merging with the top-level `restart`.',
    check: (m, written) => restartProblems(m, written),
  },
  {
    doc: 'Each service\'s URL variable is set once: no two services, and not `env`, set the same variable.',
    check: (m, written) => urlEnvProblems(m, written),
  },
];

/** The value of `key` in a mapping as written, if it is a mapping. */
function writtenAt(written: unknown, ...keys: string[]): unknown {
  let at = written;
  for (const key of keys) at = isPlainObject(at) ? at[key] : undefined;
  return at;
}

function dependencyProblems(m: Manifest): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const processNames = Object.keys(m.processes);
  const serviceNames = Object.keys(m.services);
  const all = [...processNames, ...serviceNames];
  const listed = (names: string[]) => (names.length === 0 ? 'none' : names.map((n) => `\`${n}\``).join(', '));
  for (const [process, spec] of Object.entries(m.processes)) {
    spec.dependsOn.forEach((dependency, index) => {
      const key = ['processes', process, 'depends_on', index];
      if (dependency === process) {
        problems.push({ key, message: `is \`${process}\` itself, and a process cannot wait for itself`, fix: 'remove this entry' });
      } else if (!all.includes(dependency)) {
        const meant = closest(dependency, all.filter((n) => n !== process));
        problems.push(
          meant !== undefined
            ? { key, message: `\`${dependency}\` is not a process or service of this app; did you mean \`${meant}\`?`, fix: `write \`- ${meant}\`` }
            : {
              key,
              message: `\`${dependency}\` is not a process or service of this app (processes: ${listed(processNames)}; services: ${listed(serviceNames)})`,
              fix: `add a service or process named \`${dependency}\`, or remove this entry`,
            },
        );
      }
    });
  }
  for (const cycle of dependencyCycles(m.processes)) {
    const [from, to] = cycle;
    problems.push({
      key: ['processes', from, 'depends_on', m.processes[from].dependsOn.indexOf(to)],
      message: `makes a cycle: ${cycle.join(' -> ')}, so none of these processes could start first`,
      fix: `remove one link of the cycle, such as \`${to}\` from \`processes.${from}.depends_on\``,
    });
  }
  return problems;
}

/**
 * Every circle of processes waiting for one another, each once, as names from the process that comes
 * first in the file back to itself: `['web', 'api', 'web']`. Self references are left to the caller.
 */
export function dependencyCycles(processes: Readonly<Record<string, { readonly dependsOn: readonly string[] }>>): string[][] {
  const order = Object.keys(processes);
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    if (done.has(name)) return;
    const at = stack.indexOf(name);
    if (at !== -1) {
      const loop = stack.slice(at);
      // Start at the process written first, so one circle is reported once however it is reached.
      const start = loop.reduce((best, n) => (order.indexOf(n) < order.indexOf(best) ? n : best));
      const rotated = [...loop.slice(loop.indexOf(start)), ...loop.slice(0, loop.indexOf(start))];
      cycles.set(rotated.join(' '), [...rotated, start]);
      return;
    }
    for (const next of processes[name].dependsOn) {
      if (next !== name && Object.hasOwn(processes, next)) visit(next, [...stack, name]);
    }
    if (stack.length === 0 || !stack.includes(name)) done.add(name);
  };
  for (const name of order) visit(name, []);
  return [...cycles.values()];
}

function restartProblems(m: Manifest, written: Readonly<Record<string, unknown>>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const [process, spec] of Object.entries(m.processes)) {
    const { backoffMs, maxBackoffMs } = spec.restart;
    if (backoffMs <= maxBackoffMs) continue;
    const own = writtenAt(written, 'processes', process, 'restart');
    const ownBackoff = writtenAt(own, 'backoff') != null;
    const where = (key: string) => (writtenAt(own, key) != null ? '' : ', from the top-level `restart`');
    problems.push({
      key: ['processes', process, 'restart', ownBackoff ? 'backoff' : 'max_backoff'],
      message: ownBackoff
        ? `is ${formatDuration(backoffMs)}, longer than \`max_backoff\` (${formatDuration(maxBackoffMs)}${where('max_backoff')})`
        : `is ${formatDuration(maxBackoffMs)}, shorter than \`backoff\` (${formatDuration(backoffMs)}${where('backoff')})`,
      fix: ownBackoff
        ? `write \`backoff: ${formatDuration(maxBackoffMs)}\` or less, or raise \`max_backoff\``
        : `write \`max_backoff: ${formatDuration(backoffMs)}\` or more, or lower \`backoff\``,
    });
  }
  return problems;
}

function urlEnvProblems(m: Manifest, written: Readonly<Record<string, unknown>>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const firstWith = new Map<string, string>();
  for (const [name, spec] of Object.entries(m.services)) {
    const explicit = writtenAt(written, 'services', name, 'url_env') != null;
    const key = ['services', name, 'url_env'];
    const variable = spec.urlEnv;
    if (variable === undefined) {
      if (spec.url !== undefined) {
        problems.push({
          key: ['services', name, 'url'],
          message: `is set, but no variable carries it: berth knows no URL variable for the image \`${imageName(spec.image)}\``,
          fix: `add \`url_env: ${suggestEnvName(name).toUpperCase()}_URL\``,
        });
      }
      continue;
    }
    const is = explicit ? `is ${variable}` : `is ${variable} (the default for a \`${imageName(spec.image)}\` image)`;
    const own = `${suggestEnvName(name).toUpperCase()}_URL`;
    const other = own === variable ? `${suggestEnvName(name).toUpperCase()}_SERVICE_URL` : own;
    const first = firstWith.get(variable);
    if (first !== undefined) {
      problems.push({ key, message: `${is}, which \`services.${first}\` sets too`, fix: `give one of them another \`url_env\`, such as \`url_env: ${other}\`` });
    } else if (Object.hasOwn(m.env, variable)) {
      problems.push({ key, message: `${is}, which \`env\` sets too, so processes would get two values`, fix: `remove ${variable} from \`env\`, or write \`url_env: ${other}\`` });
    }
    firstWith.set(variable, name);
  }
  return problems;
}
