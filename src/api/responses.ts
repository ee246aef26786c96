/**
 * What each endpoint of ./operations.ts answers, by status: a JSON body of a wire shape
 * (../model/wire.ts), or an event stream with the shape of each event's data. The OpenAPI document is
 * made from these (./openapi.ts); endpoints send JSON through `answer`, which takes only the shape
 * declared here for that operation and status.
 */
import type { ServerResponse } from 'node:http';
import { EVENT_TYPES } from '../model/events.ts';
import * as wire from '../model/wire.ts';
import type { Infer, Schema } from '../model/wire-schema.ts';
import { sendJson } from './http.ts';
import type { OperationName } from './operations.ts';

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body (`application/json`). */
  readonly json?: Schema;
  /** `text/event-stream`: event name -> the shape of its data. */
  readonly events?: Readonly<Record<string, Schema>>;
  /** A text body of this content type (the Prometheus scrape). */
  readonly text?: string;
}

export type Responses = Readonly<Partial<Record<200 | 201 | 202, ResponseSpec>>>;

/** A deployment's stream: each event under its own type (`event: deploy.state`), its data the whole event. */
const deploymentEvents = Object.fromEntries(EVENT_TYPES.map((type) => [type, wire.ApiEvent]));

export const responses = {
  info: { 200: { description: 'the server: version, driver, addresses', json: wire.ServerInfo } },
  shutdown: { 202: { description: 'the daemon is stopping', json: wire.ShutdownAccepted } },
  listApps: { 200: { description: 'every app', json: wire.AppList } },
  createApp: {
    201: { description: 'the new app, empty (so env vars can be set before its first deploy)', json: wire.App },
    200: { description: 'the app already exists', json: wire.App },
  },
  getApp: { 200: { description: 'the app', json: wire.App } },
  destroyApp: { 200: { description: 'every instance stopped; routes, releases, env vars and logs removed', json: wire.AppDestroyed } },
  deploy: { 202: { description: 'the deployment, queued; the app is created on its first deploy', json: wire.DeploymentAccepted } },
  deployImage: { 202: { description: 'the deployment, queued: it resolves the image to a digest, pulls it and deploys it; the app is created on its first deploy', json: wire.DeploymentAccepted } },
  listDeployments: { 200: { description: 'the app\'s deployments, newest first', json: wire.DeploymentList } },
  appEvents: { 200: { description: 'the app\'s recent events, oldest first', json: wire.EventList } },
  listEvents: {
    200: {
      description: 'the events, oldest first; with follow=1 an event stream that stays open: each event under its own type (`event: deploy.failed`), `id:` its seq',
      json: wire.EventList,
      events: deploymentEvents,
    },
  },
  audit: { 200: { description: 'the report (`markdown`) and what it covers', json: wire.AuditReport } },
  getDeployment: { 200: { description: 'the deployment', json: wire.Deployment } },
  deploymentEvents: {
    200: { description: 'every event of the deployment (after `after`), then live ones; `id:` is the seq; the stream ends after deploy.succeeded, deploy.failed or deploy.interrupted', events: deploymentEvents },
  },
  listReleases: { 200: { description: 'the app\'s releases, newest first', json: wire.ReleaseList } },
  listPolicies: { 200: { description: 'the policies with their source file and line, and the problems of those that do not load', json: wire.PolicyList } },
  checkPolicies: { 200: { description: 'each verdict; allowed is false when any policy denies or does not load', json: wire.PolicyCheck } },
  appHealth: { 200: { description: 'the app\'s health state and, per serving instance of the current release, its state, failures in a row and latest checks', json: wire.AppHealth } },
  rollback: { 202: { description: 'the rollback, queued', json: wire.DeploymentAccepted } },
  getEnv: { 200: { description: 'the app\'s env vars', json: wire.EnvList } },
  patchEnv: { 202: { description: 'the change is saved and rolls out as a new release through the health gate', json: wire.EnvChange } },
  logs: { 200: { description: 'the lines; with follow=1 an event stream of `log` events that stays open', json: wire.LogLines, events: { log: wire.LogLine } } },
  accessLog: { 200: { description: 'the requests; with follow=1 an event stream of `access` events that stays open', json: wire.AccessLog, events: { access: wire.AccessLogEntry } } },
  scale: { 202: { description: 'the counts are saved and roll out as a new release through the health gate', json: wire.ScaleAccepted } },
  run: { 200: { description: 'an `output` event per line, then one `exit`; closing the stream stops the command', events: { output: wire.RunOutput, exit: wire.RunExit } } },
  listRegistries: { 200: { description: 'the registry logins, by host', json: wire.RegistryLoginList } },
  loginRegistry: {
    201: { description: 'the registry accepted the credentials; the login is stored', json: wire.RegistryLogin },
    200: { description: 'the registry accepted the credentials; they replace the host\'s earlier login', json: wire.RegistryLogin },
  },
  logoutRegistry: { 200: { description: 'the login is deleted (images already pulled stay)', json: wire.RegistryLogout } },
  listCerts: { 200: { description: 'every certificate, by domain; never a key, not even sealed', json: wire.CertificateList } },
  addCert: {
    201: { description: 'the certificate passed every check and is stored, its key sealed; the proxy serves it for the domain', json: wire.CertificateAdded },
    200: { description: 'as 201; it replaced the domain\'s earlier certificate (`replaced` says whose)', json: wire.CertificateAdded },
  },
  getCert: { 200: { description: 'the certificate, with its chain', json: wire.CertificateDetail } },
  removeCert: { 200: { description: 'the certificate is deleted; while an app lists the hostname, berth requests one from ACME again (`acme`)', json: wire.CertificateRemoved } },
  renewCert: { 202: { description: 'the renewal is due now and the certificate manager carries it out; the certificate held serves until the new one is issued', json: wire.Certificate } },
  listNotifiers: { 200: { description: 'every notifier, by name; URLs as scheme and host, no secrets', json: wire.NotifierList } },
  addNotifier: { 201: { description: 'the notifier is stored, URL and secret sealed; it is told of events from now on', json: wire.NotifierAdded } },
  getChaos: { 200: { description: 'the app\'s chaos; null when none', json: wire.ChaosAnswer } },
  setChaos: { 200: { description: 'the chaos is stored and in the proxy\'s route table', json: wire.ChaosAnswer } },
  stopChaos: { 200: { description: 'the chaos is off (null); it was already when none was on', json: wire.ChaosAnswer } },
  promote: { 200: { description: 'the promote policies allowed: the canary is the current release, the stable one drains', json: wire.RolloutAnswer } },
  abort: { 200: { description: 'all traffic is back on the stable release (the proxy has the table); the canary drains and stops, its deployment fails with CANARY_ABORTED', json: wire.RolloutAnswer } },
  removeNotifier: { 200: { description: 'the notifier is deleted, with what it still had queued and its history', json: wire.NotifierRemoved } },
  testNotifier: { 200: { description: 'the test message was posted (or tried): what the receiver answered', json: wire.NotifierTested } },
  listDeliveries: { 200: { description: 'the deliveries, newest first', json: wire.DeliveryList } },
  doctor: { 200: { description: 'which runtime and why, versions, the proxy, disk space, what this setup does not protect against', json: wire.Doctor } },
  openapi: { 200: { description: 'this document', json: wire.OpenApiDocument } },
  metrics: { 200: { description: 'the metrics, as Prometheus scrapes them', text: 'text/plain; version=0.0.4' } },
  appMetrics: { 200: { description: 'the app\'s traffic over the window, per release, and its instances\' usage', json: wire.AppMetrics } },
} as const satisfies Record<OperationName, Responses>;

type JsonStatus<N extends OperationName> = { [S in keyof (typeof responses)[N]]: (typeof responses)[N][S] extends { json: Schema } ? S : never }[keyof (typeof responses)[N]];

/** The JSON body of operation `N` with status `S`. */
export type Answer<N extends OperationName, S extends JsonStatus<N>> = (typeof responses)[N][S] extends { json: infer J } ? Infer<J> : never;

/** Sends the JSON answer of an operation: only the shape ./responses declares for that status type-checks. */
export function answer<N extends OperationName, S extends JsonStatus<N>>(res: ServerResponse, _operation: N, status: S, body: Answer<N, S>): void {
  sendJson(res, Number(status), body);
}
