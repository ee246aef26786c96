/** `static`: a folder that berth's static file server serves as the `web` process. */
import { s } from '../schema-dsl.ts';
import { APP_PATH, APP_PATH_HINT, normalizeAppPath, suggestAppPath } from './app-path.ts';

export const staticDir = s.string({
  doc: 'A folder of the app that berth\'s static file server serves as the `web` process, so no web `command` is needed.',
  details:
    'HTML is served so that browsers never keep a stale page after a deploy, and fingerprinted assets (a ' +
    'content hash in the file name, such as `app.3f9c2b1e.js`) as immutable. `static: .` serves the whole app ' +
    'folder. With `static` and no `processes`, the app has one `web` process, the static server. It cannot be ' +
    'combined with `processes.web.command`, and when `processes` is set it must list `web` (with no command). ' +
    'The top-level `health`, `domains` and `processes.web` settings such as `replicas` apply as usual.',
  type: 'folder',
  example: 'public',
  optional: true,
  unset: '`web` runs its command',
  pattern: APP_PATH,
  patternHint: APP_PATH_HINT,
  suggest: suggestAppPath,
  normalize: normalizeAppPath,
});
