/** The bench:update section of BENCHMARKS.md. */
import { fixed, median, table } from '../lib/markdown.ts';
import { INTERVAL_S, type UpdateResult } from './measure.ts';

/** The target: all traffic on a pushed digest within the interval + 3 s, on a cached layer set. */
const TARGET_S = INTERVAL_S + 3;

export function renderUpdateReport(input: {
  command: string;
  startedAt: Date;
  durationS: number;
  machine: { nproc: number; cpu: string; kernel: string; memory: string; node: string; docker: string };
  nodeImage: string;
  result: UpdateResult;
}): string {
  const { machine, result } = input;
  const rounds = result.rounds;
  const toTraffic = median(rounds.map((r) => r.toTrafficS));
  const found = median(rounds.map((r) => r.foundS));
  const out: string[] = [];
  out.push('## Auto-update: from `docker push` to all traffic on the new digest', '');
  out.push(`Command: \`${input.command}\` (bench/update.ts), run ${input.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${Math.round(input.durationS)} s. This section is written by that command.`, '');
  out.push(`Machine: ${machine.nproc} × ${machine.cpu}, ${machine.memory} RAM, Linux ${machine.kernel}; Node ${machine.node}; Docker Engine ${machine.docker}. berth runs from dist/ as \`npm ci\` builds it, on the docker runtime; the registry is ${result.registry}, started by the benchmark.`, '');
  out.push(
    `An image app follows \`acme/web:live\` with \`update: { interval: ${INTERVAL_S}s, settle: 0s }\`. Each round builds a new version of a small Node server on \`${input.nodeImage}\` (only its last layers differ: the base layers are cached and already on the engine) and pushes it with the Engine API, as \`docker push\` does. ` +
      `The pushes land at evenly spread points of berth's check cycle: round i is pushed (i − 1)/${rounds.length} of the interval after a check, so the rounds sample every wait a push can meet. ` +
      '"To all traffic" is from the end of the push (the registry has the new digest) to the first answer from the new version through berth\'s proxy (a probe asks every 20 ms; the proxy switches its whole table at once, and no later answer came from an older version unless listed under problems). "Found" is from the end of the push to the update deployment berth started: the wait for the next check, which is up to one interval. The rest is the ordinary deploy: pull of the new layer, start, health gate (2 successes 200 ms apart), switch.',
    '',
  );
  out.push(table(['round', 'push', 'found', 'to all traffic'], rounds.map((r) => [r.version, `${fixed(r.pushS, 2)} s`, `${fixed(r.foundS, 2)} s`, `${fixed(r.toTrafficS, 2)} s`])), '');
  out.push('### Against the target', '');
  out.push(
    table(
      ['target', 'measured (median of ' + rounds.length + ')', 'result'],
      [[`all traffic on the new digest ≤ interval + 3 s = ${TARGET_S} s`, `${fixed(toTraffic, 2)} s (found after ${fixed(found, 2)} s; slowest round ${fixed(Math.max(...rounds.map((r) => r.toTrafficS)), 2)} s)`, toTraffic <= TARGET_S ? '**PASS**' : '**MISS**']],
    ),
    '',
  );
  out.push('### Problems seen', '', result.problems.length ? result.problems.map((p) => `- ${p}`).join('\n') : 'None: every round was an `update` deployment, and no answer came from an older version once the new one answered.', '');
  out.push('### Reading', '');
  out.push(
    `The updater checks each followed tag once per interval (a HEAD request of the manifest; its pass runs every 250 ms, so a check comes at most that late), so "found" is the rest of the interval after the push: about ${INTERVAL_S} s for a push just after a check, next to nothing for one just before the next, ${INTERVAL_S / 2} s on average. The deploy after it is the same as \`berth deploy --image\` (to all traffic minus found). ` +
      'A shorter interval finds pushes sooner at the cost of one request per interval per image (Docker Hub limits requests: keep it to minutes there). Five rounds are not statistics: read differences under ~20 % as noise.',
  );
  return out.join('\n');
}
