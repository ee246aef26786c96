/** `image`: the app runs a prebuilt image from a registry instead of being built from its folder. */
import { s } from '../schema-dsl.ts';
import { IMAGE_STRING } from './image-reference.ts';

export const image = s.string({
  doc: 'A prebuilt image to run instead of building the app\'s folder, as `docker pull` takes it.',
  details:
    'Docker runtime only. berth pulls the image when the engine does not have it (from a private registry with the ' +
    'login of `berth registry login`), and a release records the digest the tag pointed to, so a rollback runs the ' +
    'same image after the tag has moved. No tag means `latest`. Nothing is built, so `build`, `dockerfile` and ' +
    '`static` are errors beside `image`. The rest applies as to a built app: `processes` (a `command` replaces the ' +
    'image\'s own, and `web` without one runs the image\'s own), `release`, `health`, `env`, `replicas`, `resources`, ' +
    '`services` and `domains`. `web` listens on `processes.web.port`, 3000 unless set, and gets PORT set to it: berth ' +
    'cannot see which port the image exposes before it runs it, so an image that listens on a fixed port needs it ' +
    'written, such as `port: 80` for nginx. A command with shell syntax (quotes, `$VAR`, `&&`) and the `release` ' +
    'command run with `sh -c`, so the image needs a shell for them. `update` follows the tag for new images.',
  example: 'ghcr.io/acme/web:1.4',
  optional: true,
  unset: 'berth builds the app from its folder',
  ...IMAGE_STRING,
});
