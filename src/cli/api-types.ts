/**
 * The control API's JSON shapes as docs/api.md defines them: what the CLI reads from the server. Enums
 * are the server's own types (type-only imports: nothing of the server is loaded).
 */
import { isTerminal, type DeploymentState, type InstanceRunState, type InstanceState } from '../model/states.ts';
import type { DeploymentError, DeploymentKind, ReleaseStatus } from '../model/records.ts';

export type { DeploymentError, DeploymentKind, DeploymentState, InstanceRunState, InstanceState, ReleaseStatus };

export interface ReleaseRef {
  id: string;
  version: number;
  name: string;
}

export interface Instance {
  id: string;
  process: string;
  release: ReleaseRef;
  state: InstanceState;
  run: InstanceRunState;
  address: string | null;
  restarts: number;
  pid?: number;
}

/** Where the CLI stops following: traffic has moved (draining counts: the old release only finishes its work), or it failed. */
export const isSettled = (state: DeploymentState): boolean => state === 'draining' || isTerminal(state);

export interface App {
  name: string;
  createdAt: string;
  urls: string[];
  status: 'new' | 'deploying' | 'running' | 'degraded' | 'failed';
  release: ReleaseRef | null;
  deploying: { id: string; state: DeploymentState } | null;
  instances: Instance[];
}

export interface Release {
  id: string;
  version: number;
  name: string;
  description: string;
  createdAt: string;
  status: ReleaseStatus;
  /** The commit deployed, when the CLI found one (`-dirty` with local changes). */
  gitSha: string | null;
  current: boolean;
  warm: boolean;
  rollbackable: boolean;
}

export interface Deployment {
  id: string;
  app: string;
  kind: DeploymentKind;
  state: DeploymentState;
  release: ReleaseRef | null;
  previousRelease: ReleaseRef | null;
  createdAt: string;
  finishedAt: string | null;
  urls: string[];
  error: DeploymentError | null;
}

export interface ApiEvent {
  seq: number;
  at: string;
  app: string | null;
  deploymentId: string | null;
  type: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface LogLine {
  ts: string;
  stream: 'stdout' | 'stderr';
  line: string;
  instance: string;
  process: string;
  release: string;
}

export interface EnvVar {
  name: string;
  updatedAt: string;
  /** False when the serving release does not run with this value (a failed rollout, a rollback). */
  serving: boolean;
  value?: string;
}

export interface EnvList {
  app: string;
  /** The serving release's name, null before the first deploy. */
  release: string | null;
  vars: EnvVar[];
  /** Names unset since the serving release was made, which it still has. */
  unsetButServed: string[];
}

export interface ServerInfo {
  version: string;
  driver: string;
  baseDomain: string;
  http: { host: string; port: number };
  api: { host: string; port: number };
  dataDir: string;
}
