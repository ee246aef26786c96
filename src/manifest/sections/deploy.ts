/** `deploy`: how a new release replaces the running one, and how long the old one stays. */
import { formatDuration } from '../../lib/duration.ts';
import { s, type Infer } from '../schema-dsl.ts';

const step = s.object({
  doc: 'One canary step: the share of new requests the new release gets, and for how long it is judged at that share.',
  aliases: { percent: 'weight', traffic: 'weight', duration: 'for', pause: 'for', hold: 'for' },
  fields: {
    weight: s.int({ doc: 'Percent of new requests sent to the canary during the step.', example: 10, min: 1, max: 99, required: 'a step says how much traffic the canary gets' }),
    for: {
      as: 'durationMs',
      node: s.duration({ doc: 'How long the step lasts; its analysis reads the canary\'s traffic over this window.', example: '2m', default: '2m', min: '1s', max: '24h' }),
    },
  },
});

const canary = s.object({
  doc: 'The canary\'s steps and analysis (strategy `canary`).',
  aliases: { step: 'steps', analysis_interval: 'interval', min_sample: 'min_requests', minimum_requests: 'min_requests', stickiness: 'sticky' },
  fields: {
    steps: s.array({
      doc: 'Traffic shares the canary goes through, in order; after the last one passes it is promoted to 100 %.',
      items: step,
      minItems: 1,
      maxItems: 10,
      default: [{ weight: 10, for: '2m' }, { weight: 50, for: '5m' }],
      example: [{ weight: 10, for: '2m' }, { weight: 50, for: '5m' }],
    }),
    interval: {
      as: 'intervalMs',
      node: s.duration({ doc: 'How often the canary\'s error rate, p99 and request count are judged by the canary policies during a step.', example: '30s', default: '30s', min: '1s', max: '10m' }),
    },
    min_requests: {
      as: 'minRequests',
      node: s.int({ doc: 'Requests the canary must have answered in the window before a verdict counts; fewer: the step waits.', example: 50, default: 50, min: 1, max: 1_000_000 }),
    },
    max_wait: {
      as: 'maxWaitMs',
      node: s.duration({ doc: 'How long past its duration a step waits for `min_requests` before the canary fails as inconclusive.', example: '10m', default: '10m', min: '0s', max: '24h' }),
    },
    sticky: s.enum({
      doc: 'How a client stays on one side: `cookie` (the proxy sets one; clients without cookies fall back to their address) or `address` (the client\'s IP address).',
      values: ['cookie', 'address'],
      example: 'cookie',
      default: 'cookie',
    }),
  },
  rules: [
    {
      doc: 'Step weights increase.',
      check: (c) =>
        c.steps.flatMap((st, i) =>
          i > 0 && st.weight <= c.steps[i - 1]!.weight
            ? [{ key: ['steps', i, 'weight'], message: `is ${st.weight}, not more than the step before (${c.steps[i - 1]!.weight}); each step sends more traffic to the canary`, fix: `write a weight from ${c.steps[i - 1]!.weight + 1} to 99, or remove the step` }]
            : [],
        ),
    },
  ],
});

export const deploy = s.object({
  doc: 'How a new release replaces the running one.',
  aliases: { type: 'strategy', mode: 'strategy', drain: 'drain_timeout', grace_period: 'stop_timeout', keep: 'keep_releases', releases: 'keep_releases', surge: 'max_surge', unavailable: 'max_unavailable' },
  fields: {
    strategy: s.enum({
      doc: 'How traffic moves to the new release.',
      details:
        '`blue-green` starts every new instance beside the old ones and switches all traffic at once when they are healthy. ' +
        '`rolling` replaces instances in batches (`max_surge`, `max_unavailable`), each batch through the health gate. ' +
        '`canary` starts the new release beside the old one and sends it a growing share of traffic (`canary.steps`), ' +
        'judging its error rate and latency by the canary policies at each interval: a failing verdict puts all traffic back on ' +
        'the old release; passing every step promotes it. `berth deploy --strategy` overrides it for one deploy.',
      values: ['blue-green', 'rolling', 'canary'],
      example: 'blue-green',
      default: 'blue-green',
    }),
    max_surge: {
      as: 'maxSurge',
      node: s.int({ doc: '`rolling`: how many instances a process may have above its replicas while it is replaced.', example: 1, default: 1, min: 0, max: 20 }),
    },
    max_unavailable: {
      as: 'maxUnavailable',
      node: s.int({ doc: '`rolling`: how many of a process\'s replicas may be missing while it is replaced; serving capacity never drops below replicas minus this.', example: 0, default: 0, min: 0, max: 20 }),
    },
    canary,
    drain_timeout: {
      as: 'drainTimeoutMs',
      node: s.duration({ doc: 'How long the old release may finish in-flight requests and WebSockets after the switch.', example: '2m', default: '30s', min: '0s', max: '1h' }),
    },
    stop_timeout: {
      as: 'stopTimeoutMs',
      node: s.duration({ doc: 'How long a stopping process has between SIGTERM and SIGKILL.', example: '30s', default: '10s', min: '1s', max: '10m' }),
    },
    standby: {
      as: 'standbyMs',
      node: s.duration({ doc: 'How long the previous release keeps running without traffic, so a rollback is instant.', example: '15m', default: '5m', min: '0s', max: '24h' }),
    },
    keep_releases: {
      as: 'keepReleases',
      node: s.int({ doc: 'How many releases stay on disk to roll back to.', example: 10, default: 5, min: 1, max: 50 }),
    },
  },
  rules: [
    {
      doc: '`rolling` needs room to move: `max_surge` or `max_unavailable` above 0.',
      check: (d) =>
        d.maxSurge + d.maxUnavailable > 0 ? undefined : {
          key: 'max_surge',
          message: 'and `max_unavailable` are both 0, so a rolling deploy could neither start a new instance beside an old one nor stop an old one first',
          fix: 'write `max_surge: 1` (one extra instance at a time), or `max_unavailable: 1` to replace in place',
        },
    },
  ],
});

export type DeploySpec = Infer<typeof deploy>;
export type CanarySpec = DeploySpec['canary'];
export type CanaryStep = CanarySpec['steps'][number];

/** `10 % for 2m, 50 % for 5m, then 100 %`: the steps as the CLI prints them. */
export const describeSteps = (steps: readonly CanaryStep[]): string => `${steps.map((st) => `${st.weight} % for ${formatDuration(st.durationMs)}`).join(', ')}, then 100 %`;
