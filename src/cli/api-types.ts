/** The control API's JSON shapes as docs/api.md defines them: what the CLI reads from the server. */

export interface ReleaseRef {
  id: string;
  version: number;
  name: string;
}

export type InstanceState = 'starting' | 'serving' | 'draining' | 'standby' | 'stopping' | 'stopped' | 'failed';

export interface Instance {
  id: string;
  process: string;
  release: ReleaseRef;
  state: InstanceState;
  run: 'running' | 'restarting' | 'crashloop' | 'exited' | 'missing';
  address: string | null;
  restarts: number;
  pid?: number;
}

export type DeploymentState = 'queued' | 'building' | 'releasing' | 'starting' | 'verifying' | 'switching' | 'draining' | 'succeeded' | 'failed' | 'interrupted';

export const FINAL_STATES: readonly DeploymentState[] = ['succeeded', 'failed', 'interrupted'];
/** Where the CLI stops following: traffic has moved (draining counts: the old release only finishes its work). */
export const SETTLED_STATES: readonly DeploymentState[] = ['draining', ...FINAL_STATES];

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
  status: 'pending' | 'ready' | 'failed' | 'pruned';
  current: boolean;
  warm: boolean;
  rollbackable: boolean;
}

export interface DeploymentError {
  code: string;
  message: string;
  hint?: string;
  logTail: string[];
}

export interface Deployment {
  id: string;
  app: string;
  kind: 'deploy' | 'env' | 'rollback' | 'scale';
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
  value?: string;
}

export interface ServerInfo {
  version: string;
  driver: string;
  baseDomain: string;
  http: { host: string; port: number };
  api: { host: string; port: number };
  dataDir: string;
}
