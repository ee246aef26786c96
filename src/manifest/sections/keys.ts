/** The top-level keys of berth.yaml, in the order the reference and `berth init` show them, and the type they resolve to. */
import type { ObjectOut } from '../schema-dsl.ts';
import { build, dockerfile } from './build.ts';
import { checks } from './checks.ts';
import { deploy } from './deploy.ts';
import { domains } from './domains.ts';
import { env } from './env.ts';
import { health } from './health.ts';
import { https } from './https.ts';
import { image } from './image.ts';
import { name } from './name.ts';
import { policies } from './policies.ts';
import { processes, type ProcessSpec } from './processes.ts';
import { release } from './release.ts';
import { restart } from './restart.ts';
import { services } from './services.ts';
import { staticDir } from './static.ts';
import { update } from './update.ts';

export const manifestFields = {
  name,
  build,
  dockerfile,
  static: staticDir,
  image,
  update,
  release,
  checks,
  processes,
  services,
  health,
  deploy,
  restart,
  domains,
  https,
  env,
  policies,
};

type ManifestDraft = ObjectOut<typeof manifestFields>;

/** berth.yaml resolved: every default applied, durations in milliseconds, sizes in bytes, deep-frozen. */
export type Manifest = { readonly [K in keyof ManifestDraft]: K extends 'processes' ? Readonly<Record<string, ProcessSpec>> : ManifestDraft[K] };
