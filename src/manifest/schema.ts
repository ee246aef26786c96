/**
 * The berth.yaml schema: the single definition that the Manifest type, validation, the JSON Schema for
 * editors (schema/berth.schema.json), the reference (docs/manifest.md) and `berth init` all come from.
 * Each top-level section has its file under ./schema/ (the keys in order: ./schema/keys.ts; the rules
 * between sections: ./schema/cross-checks.ts); this module assembles them. Change a key there, then
 * run `npm run gen:manifest`.
 */
import { recordOf } from '../lib/record.ts';
import { s, type Result, type ValidateContext } from './schema-dsl.ts';
import { crossSectionRules } from './sections/cross-checks.ts';
import { manifestFields, type Manifest } from './sections/keys.ts';
import { mergeRestart } from './sections/restart.ts';

export type { Manifest } from './sections/keys.ts';
export { normalizeAppPath } from './sections/app-path.ts';
export { IMAGE_DEFAULTS, imageDefaults, imageName } from './sections/images.ts';
export { imageReferenceProblem, pinsDigest } from './sections/image-reference.ts';
export { dependencyCycles } from './sections/cross-checks.ts';
export type { ProcessSpec, ResourcesSpec } from './sections/processes.ts';
export type { ProcessHealthSpec } from './sections/process-health.ts';
export type { ReleaseSpec } from './sections/release.ts';
export type { RestartSpec } from './sections/restart.ts';
export type { ServiceSpec } from './sections/services.ts';
export type { ServiceHealthSpec } from './sections/service-health.ts';
export type { UpdateSpec } from './sections/update.ts';

/** Keys the full example leaves out: `static` and `image` (with the `update` that goes with it) cannot go with `build` and web's command. */
const NOT_IN_EXAMPLE = new Set(['static', 'image', 'update']);

export const manifestSchema = s.object({
  doc: 'berth.yaml tells berth how to build, run and route an app; every key is optional.',
  aliases: {
    app: 'name',
    environment: 'env',
    vars: 'env',
    variables: 'env',
    healthcheck: 'health',
    health_check: 'health',
    hosts: 'domains',
    hostnames: 'domains',
    procfile: 'processes',
    accessories: 'services',
    addons: 'services',
    supervise: 'restart',
    restart_policy: 'restart',
    release_command: 'release',
    public: 'static',
    static_dir: 'static',
    docker_image: 'image',
    auto_update: 'update',
    autoupdate: 'update',
  },
  fields: manifestFields,
  // `static` replaces web's command and `image` the build, which the example sets: their own sections show them.
  example: Object.fromEntries(Object.entries(manifestFields).filter(([key]) => !NOT_IN_EXAMPLE.has(key)).map(([key, node]) => [key, node.example])),
  resolve: (m): Manifest => ({
    ...m,
    processes: recordOf(Object.entries(m.processes).map(([process, spec]) => [process, { ...spec, restart: mergeRestart(m.restart, spec.restart) }])),
  }),
  rules: crossSectionRules,
});

/** Validates parsed berth.yaml content (plain data) and resolves it; see parseManifest for text. */
export function validateManifest(value: unknown, options: { sourceText?: ValidateContext['sourceText'] } = {}): Result<Manifest> {
  return manifestSchema.validate(value, '', { root: manifestSchema, sourceText: options.sourceText });
}
