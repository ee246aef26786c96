/**
 * Labels and names of everything the docker driver creates. Every container, network, volume and image
 * carries `berth.owner`, so berth finds what it owns (and never touches anything else), plus what it
 * belongs to: app and environment always; release and process where the resource belongs to one
 * (instances: also the instance; one-off runs: process `one-off`). What outlives a release is labelled
 * by its own identity instead: the network (one per app environment), services and their volumes
 * (`berth.service`, reused by every release whose spec matches) and images (`berth.build`: env, scale and
 * rollback releases reuse a build; the `<app>:<release>` tags name each release that ran it).
 */
import type { Labels } from './engine.ts';

export const LABEL = {
  owner: 'berth.owner',
  kind: 'berth.kind',
  app: 'berth.app',
  env: 'berth.env',
  release: 'berth.release',
  process: 'berth.process',
  instance: 'berth.instance',
  service: 'berth.service',
  build: 'berth.build',
  /** Names (not values) of the env vars to mask in this container's logs. */
  secretNames: 'berth.secret-names',
  /** The instance's restart policy (JSON of RestartPolicy): berth supervises from it, also after a daemon restart. */
  restartPolicy: 'berth.restart-policy',
  /** Restart limit on containers made before berth supervised them itself (engine `on-failure`); read, never written. */
  maxRestarts: 'berth.max-restarts',
  /** The port the instance listens on inside its container (its address is container IP + this port). */
  port: 'berth.port',
  /** Hash of a service's spec: a different one means the service must be recreated. */
  specHash: 'berth.spec-hash',
  /** On release images: `generated` (berth's Dockerfile, so its containers need no capability) or `own`. */
  dockerfile: 'berth.dockerfile',
} as const;

/** Whether an image says it was built from the Dockerfile berth generates (images of older builds do not). */
export const fromGeneratedDockerfile = (labels: Labels | null | undefined) => labels?.[LABEL.dockerfile] === 'generated';

/** `build-stage`: images of a generated Dockerfile's build stage, kept as build cache for the app. */
export type ResourceKind = 'instance' | 'one-off' | 'service' | 'network' | 'volume' | 'image' | 'build-stage';

/** Every app has one environment for now; previews will add more. */
export const DEFAULT_ENV = 'production';

export function baseLabels(ownerId: string, kind: ResourceKind, app?: string): Labels {
  return { [LABEL.owner]: ownerId, [LABEL.kind]: kind, ...(app ? { [LABEL.app]: app, [LABEL.env]: DEFAULT_ENV } : {}) };
}

export const ownerFilter = (ownerId: string, extra: string[] = []) => ({ label: [`${LABEL.owner}=${ownerId}`, ...extra] });

/** Names are unique on the engine; the owner id keeps two berths on one engine apart. */
export const networkName = (ownerId: string, app: string) => `berth_${ownerId}_${app}_${DEFAULT_ENV}`;
export const containerName = (id: string) => `berth_${id}`;
export const serviceContainerName = (ownerId: string, app: string, service: string) => `berth_${ownerId}_${app}_${service}`;
export const volumeName = (ownerId: string, app: string, volume: string) => `berth_${ownerId}_${app}_${volume}`;
/** `<app>:<tag>` as the issue asks; image ids, not tags, are what berth refers to. */
export const imageTag = (app: string, tag: string) => `${app}:${tag}`;
