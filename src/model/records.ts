import type { DeploymentState, InstanceState } from './states.ts';
import type { Manifest } from '../manifest/schema.ts';

export interface AppRecord {
  name: string;
  createdAt: number;
  currentRelease: string | null;
  nextVersion: number;
  /** Replicas set with `berth scale`, by process; they win over berth.yaml. */
  formation: Record<string, number>;
}

export interface BuildRecord {
  id: string;
  app: string;
  artifact: string;
  inferredCommand: string | null;
  /** The commit the uploaded folder was at, when the CLI could tell (`abc123def456`, `-dirty` with local changes). */
  gitSha: string | null;
  /**
   * An image app's build: the reference as written in berth.yaml (`ghcr.io/acme/web:1.4`); its artifact is
   * then the digest it resolved to (`ghcr.io/acme/web@sha256:...`), so a rollback runs the same bytes.
   */
  image: string | null;
  /** The image was pulled by berth for this build (only then does berth remove it when the build goes). */
  pulled: boolean;
  createdAt: number;
  removedAt: number | null;
}

export type ReleaseStatus = 'pending' | 'ready' | 'failed' | 'pruned';

export interface ReleaseRecord {
  id: string;
  app: string;
  version: number;
  buildId: string;
  /** berth.yaml as written (releases made before formations were kept have the scaled counts in it). */
  manifest: Manifest;
  /** Replicas set with `berth scale` when the release was made, by process: they win over the manifest's. */
  formation: Readonly<Record<string, number>>;
  /** The app's env at release time, encrypted (src/secrets). */
  envSealed: string;
  description: string;
  status: ReleaseStatus;
  createdAt: number;
  /**
   * Services that follow their tag (`services.<name>.update`), by name: the digest-pinned image the
   * release runs for each (`docker.io/library/redis@sha256:...`), so a rollback puts the old bytes back.
   * A service not listed runs its `image` as written. Absent on records made before auto-update.
   */
  serviceImages?: Readonly<Record<string, string>>;
  /**
   * The check pipeline (berth.yaml `checks:`, deploy/checks.ts): the checks the release passed, in order
   * (the `release.checks` policy fact; a rollback runs none and uses this list), and whether its deploy
   * skipped them (`--skip-checks`). Absent: none passed, none skipped.
   */
  checks?: { passed: readonly string[]; skipped: boolean };
}

/** `update`: an auto-update deploys a new digest of an image's tag (src/deploy/image-updater.ts). */
export type DeploymentKind = 'deploy' | 'env' | 'rollback' | 'scale' | 'update';

export interface DeploymentError {
  code: string;
  message: string;
  hint?: string;
  logTail: string[];
}

export interface DeploymentRecord {
  id: string;
  app: string;
  kind: DeploymentKind;
  state: DeploymentState;
  releaseId: string | null;
  previousReleaseId: string | null;
  error: DeploymentError | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface InstanceRecord {
  id: string;
  app: string;
  releaseId: string;
  deploymentId: string | null;
  process: string;
  ordinal: number;
  state: InstanceState;
  address: string | null;
  /** Deadline of a draining or standby instance (epoch ms). */
  stateUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EventRecord {
  seq: number;
  at: number;
  app: string | null;
  deploymentId: string | null;
  type: string;
  message: string;
  data: Record<string, unknown> | null;
}

/**
 * A TLS certificate berth serves, one per hostname (`domain`; a wildcard is `*.example.com`): issued by ACME
 * for a domain an app's berth.yaml lists (`source: 'acme'`), or added with `berth certs add` (`'own'`).
 * The private key is sealed at rest (src/secrets); `certPem` is the chain, leaf first.
 */
export interface CertificateRecord {
  domain: string;
  source: 'acme' | 'own';
  /** The app whose `domains` asked for it (acme); null for an own certificate. */
  app: string | null;
  /** `pending`: not issued yet (first request or retrying); `issued`: certPem/keySealed hold one; `failed`: the last try failed and none is held. */
  status: 'pending' | 'issued' | 'failed';
  certPem: string | null;
  keySealed: string | null;
  /** The issuer's common name or organisation, as `berth certs` lists it. */
  issuer: string | null;
  notBefore: number | null;
  notAfter: number | null;
  /** When an ACME certificate is renewed (two thirds of its lifetime); null for own certificates. */
  renewAt: number | null;
  /** The last failure (kept while an older certificate still serves), null after a success. */
  lastError: { code: string; message: string } | null;
  /** Failures in a row, for the back-off; 0 after a success. */
  attempts: number;
  /** The next ACME try when retrying (back-off), null when nothing is due. */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** One check the health monitor made of a serving instance (src/store/health-checks.ts keeps the last 100 per instance). */
export interface HealthCheckRecord {
  instanceId: string;
  app: string;
  at: number;
  ok: boolean;
  /** The HTTP status a web instance answered; null for other checks and when nothing answered. */
  status: number | null;
  latencyMs: number;
  /** Why it failed, bounded and masked; null when it passed. */
  detail: string | null;
}

/** An instance's health as the monitor last judged it (src/health/health-state.ts); no record: `unknown`, never checked. */
export interface InstanceHealthRecord {
  instanceId: string;
  app: string;
  /** `unknown` with failures: checks failed, none passed yet, fewer than make it degraded. */
  state: 'unknown' | 'healthy' | 'degraded';
  /** Checks failed in a row since the last one that passed. */
  failures: number;
  updatedAt: number;
}
