/**
 * `policies`: the app's own policy gates, CEL expressions judged with the server's (DATA/policies).
 * The manifest checks their shape; the expressions are compiled (parse, facts, type) by src/policy when
 * the deploy reaches its gate and by `berth policy list|check`, since the manifest sits below the policy
 * engine's floor.
 */
import { s, type Infer } from '../schema-dsl.ts';

const policy = s.object({
  doc: 'A policy: a CEL expression over the facts of its moment; true allows, false denies with the message.',
  aliases: { rule: 'expr', expression: 'expr', condition: 'expr', on: 'when', moment: 'when', reason: 'message' },
  fields: {
    name: s.string({
      doc: 'The policy\'s name, in verdicts, events and the audit report.',
      type: 'policy name',
      example: 'two-web-replicas',
      maxLength: 63,
      pattern: /^[a-z0-9][a-z0-9_.-]{0,62}$/,
      patternHint: '1 to 63 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit',
      required: 'verdicts name the policy',
    }),
    when: s.enum({
      doc: 'The moment it is judged: before a deploy starts anything, before each canary step, before a canary is promoted.',
      values: ['deploy', 'canary_step', 'promote'],
      example: 'deploy',
      default: 'deploy',
    }),
    expr: s.string({
      doc: 'The CEL expression; true = allowed.',
      details:
        'Facts at every moment: host.diskFreeBytes, host.load1, host.memoryFreeBytes, host.memoryTotalBytes, host.cores, ' +
        'app.name, release.version, release.image, release.env (the names of the env vars), release.processes (process -> replicas), ' +
        'release.checks. At canary_step and promote also canary.* and stable.*: requests, requestsPerSecond, errorRate (0..1), ' +
        'p50, p95, p99 (ms). A fact not of its moment or a type error refuses the policy; an error at run time denies.',
      type: 'CEL expression',
      example: 'release.processes["web"] >= 2',
      maxLength: 1024,
      notBlank: true,
      required: 'it is what the policy judges',
    }),
    message: s.string({
      doc: 'Why a deny happened and what to do, shown with the verdict.',
      type: 'message',
      example: 'run at least two web replicas',
      maxLength: 500,
      notBlank: true,
      required: 'a deny says why',
    }),
  },
});

export const policies = s.array({
  doc: 'Policy gates of this app, judged with the server\'s (DATA/policies/*.yaml); any deny stops the deploy before anything starts.',
  details:
    'A rollback is never gated (it is the way back). `berth policy list` shows them with the server\'s; `berth policy check APP` judges them now.',
  items: policy,
  maxItems: 50,
  default: [],
  example: [{ name: 'two-web-replicas', when: 'deploy', expr: 'release.processes["web"] >= 2', message: 'run at least two web replicas' }],
});

export type PolicyEntry = Infer<typeof policy>;
