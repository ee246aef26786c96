/** `deploy`: how a new release replaces the running one, and how long the old one stays. */
import { s } from '../schema-dsl.ts';

export const deploy = s.object({
  doc: 'How a new release replaces the running one.',
  aliases: { type: 'strategy', mode: 'strategy', drain: 'drain_timeout', grace_period: 'stop_timeout', keep: 'keep_releases', releases: 'keep_releases' },
  fields: {
    strategy: s.enum({
      doc: '`blue-green` starts the new release beside the old one and switches traffic once it is healthy.',
      details: '`rolling` and `canary` are planned.',
      values: ['blue-green'],
      planned: ['rolling', 'canary'],
      example: 'blue-green',
      default: 'blue-green',
    }),
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
});
