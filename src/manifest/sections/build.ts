/** `build` and `dockerfile`: how the app is built, into a release directory or an image. */
import { s } from '../schema-dsl.ts';
import { APP_PATH, APP_PATH_HINT, normalizeAppPath, suggestAppPath } from './app-path.ts';

export const build = s.string({
  doc: 'Shell command that builds the app, run in the release directory before it starts.',
  type: 'command',
  example: 'npm run build',
  optional: true,
  unset: 'the package.json "build" script, if there is one',
  notBlank: true,
});

export const dockerfile = s.string({
  doc: 'Path of the Dockerfile in the app that the Docker runtime builds the app\'s image from.',
  details: 'Relative to the app folder. The process runtime does not build images and ignores it.',
  type: 'file path',
  example: 'docker/Dockerfile',
  optional: true,
  unset: '`Dockerfile` when the app has one, else berth generates one for Node apps',
  pattern: APP_PATH,
  patternHint: APP_PATH_HINT,
  suggest: suggestAppPath,
  normalize: normalizeAppPath,
});
