/**
 * `update`: opt-in auto-update of an image, for the app's `image` (top level) and per service
 * (`services.<name>.update`). The manifest only says how often to look and how long a new image stays on
 * trial; the watcher that asks the registry and the revert live with the deploy flow. Where `update` may
 * stand (an app with `image`, an image not pinned by digest) is checked in ./cross-checks.ts and
 * ./services.ts.
 */
import { s, type Infer, type RuleProblem } from '../schema-dsl.ts';

/**
 * Why there is no `policy` key (such as following newer semver tags): berth follows the tag as written.
 * A tag berth picked itself would differ from berth.yaml, so the next `berth deploy` of the folder would
 * go back to the older image (and run its release command against a newer database); a tag that moves
 * with the releases wanted (`app:1.4`, `redis:7`) gives the same updates without that.
 */
const NO_POLICY = {
  message: 'berth has no tag policy: it follows the tag written in the image (a newer `1.4.x` is picked up when `1.4` moves to it), so what runs is always what berth.yaml says',
  fix: 'write a tag that moves with the releases you want, such as `app:1.4` for the patches of 1.4 or `app:1` for its minor releases, and remove `policy`',
};

const TRIAL =
  'If that deploy fails, or within `settle` after the switch an instance crash-loops or fails its health checks, ' +
  'berth goes back to the previous digest on its own (a rollback to the release the update replaced, still warm) and ' +
  'skips the bad one until the tag points to another. A deploy that fails for the registry\'s reasons (a pull timing ' +
  'out, a refused login) pins nothing and is tried again after 5 minutes.';

const EVENTS =
  'A found update, a revert, a skipped digest and a check that starts failing are events; a check that finds nothing ' +
  'new is not (one every few seconds would drown the log): `berth status` shows the last check, the digest serving ' +
  'and any skipped one.';

const NO_POLICY_DETAILS =
  'berth follows the tag as written and never picks another tag (there is no semver policy): a tag chosen by berth ' +
  'would differ from berth.yaml, so the next `berth deploy` would go back to an older image. To get the patch releases ' +
  'of 1.4, follow a tag that moves with them, such as `app:1.4`. An image pinned by digest (`@sha256:...`) never ' +
  'changes, so it cannot have `update`.';

function updateNode(input: { doc: string; details: string }) {
  return s.shorthand({
    doc: input.doc,
    details: input.details,
    key: 'interval',
    example: { interval: '5m', settle: '2m' },
    optional: true,
    unset: 'no auto-update; the image changes only with a deploy',
    object: s.object({
      doc: 'Auto-update settings.',
      aliases: {
        every: 'interval', poll: 'interval', poll_interval: 'interval', check_interval: 'interval', schedule: 'interval',
        grace: 'settle', grace_period: 'settle', settle_time: 'settle', observe: 'settle', trial: 'settle',
      },
      misplaced: { policy: NO_POLICY, tag_policy: NO_POLICY },
      fields: {
        interval: {
          as: 'intervalMs',
          node: s.duration({
            doc: 'How often berth asks the registry which image the tag points to.',
            details: 'Each check is one small request and pulls nothing. Keep it to minutes with a public registry such as Docker Hub, which limits requests; seconds suit a registry of your own.',
            example: '10m',
            default: '5m',
            min: '5s',
            max: '24h',
          }),
        },
        settle: {
          as: 'settleMs',
          node: s.duration({
            doc: 'How long after an update a crash loop or failing health checks still revert it.',
            details:
              '`0s` leaves the decision to the health gate alone. Leave time for a crash loop to show: with the default ' +
              '`restart`, a process that exits at once is declared crash-looping after about 30s.',
            example: '5m',
            default: '2m',
            min: '0s',
            max: '1h',
          }),
        },
      },
    }),
  });
}

export const update = updateNode({
  doc: 'Auto-update: berth deploys each new image pushed under the tag of `image`, and reverts a bad one.',
  details:
    'Opt-in, for an app that runs `image` (services have their own `services.<name>.update`). Every `interval` berth ' +
    'asks the registry for the digest the tag points to now (a HEAD request: nothing is pulled). A new digest starts ' +
    'an ordinary deploy of it, as `berth deploy` does: pull, `release` command, health gate, switch, and only one ' +
    `deploy of the app at a time (a deploy already running means the next interval). ${TRIAL} ${EVENTS} \`update: 5m\` is short for ` +
    `\`{ interval: 5m }\`. ${NO_POLICY_DETAILS}`,
});

export const serviceUpdate = updateNode({
  doc: 'Auto-update of this service: berth deploys each new image pushed under the tag of its `image`, and reverts a bad one.',
  details:
    'Opt-in, per service. Every `interval` berth asks the registry for the digest the tag points to now (nothing is ' +
    'pulled); a new digest starts an ordinary deploy of the app with the service recreated on the new image. The ' +
    'release records the digest each such service runs, so a rollback runs the service\'s earlier digest again. ' +
    `${TRIAL} ${EVENTS} \`update: 1h\` is short for \`{ interval: 1h }\`. ${NO_POLICY_DETAILS}`,
});

/** Auto-update, resolved: durations in milliseconds. */
export type UpdateSpec = NonNullable<Infer<typeof update>>;

/** `update` beside an `image` pinned by digest, reported at `update` (top level, or in the service). */
export function pinnedUpdate(): RuleProblem {
  return {
    key: 'update',
    message: 'follows the tag of `image`, but `image` is pinned to a digest (`@sha256:...`), which never changes',
    fix: 'remove the `@` and the digest from `image` to follow its tag, or remove `update`',
  };
}
