/** The bench:deploy section of BENCHMARKS.md. */
import { fixed, table } from '../lib/markdown.ts';
import { medianOf, type RuntimeResult } from './measure.ts';

const TARGETS = { deployS: 5, rollbackS: 1, idleRssMb: 80 };
const mb = (kb: number) => (kb * 1024) / 1e6;

export function renderDeployReport(input: {
  command: string;
  startedAt: Date;
  durationS: number;
  machine: { nproc: number; cpu: string; kernel: string; memory: string; node: string; docker: string };
  nodeImage: string;
  results: RuntimeResult[];
}): string {
  const { machine, results } = input;
  const out: string[] = [];
  out.push('## Deploy and rollback: time to traffic, idle memory with 10 apps', '');
  out.push(`Command: \`${input.command}\` (bench/deploy.ts), run ${input.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${Math.round(input.durationS)} s. This section is written by that command.`, '');
  out.push(`Machine: ${machine.nproc} × ${machine.cpu}, ${machine.memory} RAM, Linux ${machine.kernel}; Node ${machine.node}; Docker Engine ${machine.docker}. berth runs from dist/ as \`npm ci\` builds it; the app is examples/hello, deployed with the CLI (\`berth deploy\`, \`berth rollback\`) as a user would. The docker runtime's generated Dockerfile builds on \`${input.nodeImage}\`, a Node 24 image made locally (no registry is reachable here).`, '');
  out.push('"To traffic" is from starting the command to the first answer from the new release through berth\'s proxy (a probe asks every 10 ms; the proxy switches its whole table at once, and no later answer came from the old release unless listed under problems). "Command" is until the CLI returned. Deploys are median of 5 with a warm build cache (the same source again, so every image layer is cached); a warm rollback goes back to the release just replaced, still running in standby; a cold rollback goes back three releases, whose instances were stopped.', '');
  const rows = results.map((r) => [
    r.runtime,
    `${fixed(r.firstDeployS, 2)} s`,
    `${fixed(medianOf(r.deploys, 'toTrafficS'), 2)} s`,
    `${fixed(medianOf(r.deploys, 'commandS'), 2)} s`,
    `${fixed(r.warmRollback.toTrafficS, 2)} s`,
    `${fixed(r.coldRollback.toTrafficS, 2)} s`,
  ]);
  out.push(table(['runtime', 'first deploy (cold cache)', 'deploy, to traffic', 'deploy, command', 'warm rollback, to traffic', 'cold rollback, to traffic'], rows), '');
  const docker = results.find((r) => r.runtime === 'docker');
  if (docker) {
    const deploy = medianOf(docker.deploys, 'toTrafficS');
    out.push('### Against the targets (docker runtime)', '');
    const rssKb = docker.memory ? docker.memory.processes.reduce((n, p) => n + p.rssKb, 0) : NaN;
    const pssKb = docker.memory ? docker.memory.processes.reduce((n, p) => n + p.pssKb, 0) : NaN;
    out.push(
      table(
        ['target', 'measured', 'result'],
        [
          ['deploy ≤ 5 s to traffic (warm cache)', `${fixed(deploy, 2)} s`, deploy <= TARGETS.deployS ? '**PASS**' : '**MISS**'],
          ['warm rollback < 1 s', `${fixed(docker.warmRollback.toTrafficS, 2)} s`, docker.warmRollback.toTrafficS < TARGETS.rollbackS ? '**PASS**' : '**MISS**'],
          [`idle RSS of all berth processes with ${docker.memory?.apps ?? '?'} apps ≤ 80 MB`, `${fixed(mb(rssKb), 1)} MB (PSS ${fixed(mb(pssKb), 1)} MB)`, mb(rssKb) <= TARGETS.idleRssMb ? '**PASS**' : '**MISS**'],
        ],
      ),
      '',
    );
    if (docker.memory) {
      out.push(`Idle memory with ${docker.memory.apps} apps deployed on the docker runtime, 15 s after the last deploy (the apps' own containers are theirs, not berth's, and are not counted). From /proc/<pid>/smaps_rollup; RSS counts shared pages (the Node binary) in full in each process, PSS splits them.`, '');
      out.push(table(['process', 'pid', 'RSS', 'PSS'], docker.memory.processes.map((p) => [p.role, p.pid, `${fixed(mb(p.rssKb), 1)} MB`, `${fixed(mb(p.pssKb), 1)} MB`])), '');
      out.push('For comparison, as the issue reports them: CapRover ~60 MB, Dokploy 450–630 MiB.', '');
    }
  }
  const problems = results.flatMap((r) => r.problems.map((p) => `${r.runtime}: ${p}`));
  out.push('### Problems seen', '', problems.length ? problems.map((p) => `- ${p}`).join('\n') : 'None: every command exited 0, and no answer came from an older release once the new one answered.', '');
  out.push('### Reading', '');
  out.push('Each deploy step is visible in `berth deploy`\'s progress: upload and build (a warm docker build is a few cache hits), start, the health gate (examples/hello asks for 2 consecutive successes 500 ms apart, so about 0.5–1 s of every deploy is the gate doing its job), then the switch. A warm rollback skips all of that but one probe; a cold one starts instances again. Two of a few runs are not statistics: read differences under ~20 % as noise.');
  return out.join('\n');
}
