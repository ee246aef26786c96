/**
 * Every error berth reports to a user, with a stable code, a message saying what went wrong and a hint
 * saying what to do next. Domain code raises `fail(code, params)`; the API edge maps codes to HTTP status
 * (src/api/error-status.ts) and the CLI prints message and hint. Codes never change meaning once shipped.
 */
export interface Issue {
  /** Key path in the input, such as `health.interval` or `processes.web.replicas`. */
  path: string;
  message: string;
  /** What to write instead. */
  fix?: string;
}

type Entry<P> = (p: P) => { message: string; hint?: string };

const define = <P = Record<string, never>>(entry: Entry<P>) => entry;

export const catalogue = {
  // Authentication and requests
  AUTH_REQUIRED: define(() => ({
    message: 'this request needs a bearer token',
    hint: 'set BERTH_TOKEN, or run `berth login <url>` with the token from DATA/admin-token',
  })),
  AUTH_INVALID: define(() => ({
    message: 'the bearer token is not valid for this server',
    hint: 'check BERTH_TOKEN or run `berth login <url>` again; the admin token is in DATA/admin-token',
  })),
  ROUTE_NOT_FOUND: define<{ method: string; path: string }>((p) => ({
    message: `no endpoint ${p.method} ${p.path}`,
    hint: 'the CLI and server versions may differ: compare `berth version` with the server',
  })),
  METHOD_NOT_ALLOWED: define<{ method: string; path: string; allowed: string[] }>((p) => ({
    message: `${p.method} is not allowed on ${p.path}`,
    hint: `use ${p.allowed.join(' or ')}`,
  })),
  BODY_TOO_LARGE: define<{ limit: number; json?: boolean }>((p) => ({
    message: `request body is larger than the limit of ${p.limit} bytes`,
    hint: p.json
      ? 'a JSON request carries names and short values only: keep large data in files or a store the app reads'
      : 'exclude large files from the upload with .berthignore, or raise --max-upload on the server',
  })),
  BODY_INVALID: define<{ reason: string }>((p) => ({
    message: `request body is not valid: ${p.reason}`,
  })),
  BODY_TIMEOUT: define<{ seconds: number }>((p) => ({
    message: `the request body did not arrive within ${p.seconds} s`,
    hint: 'send the whole JSON body at once; the connection was slow or stalled',
  })),
  REQUEST_INVALID: define<{ issues: Issue[] }>((p) => ({
    message: `request is not valid: ${p.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
  })),

  // Apps, releases, deployments
  APP_NOT_FOUND: define<{ app: string }>((p) => ({
    message: `app "${p.app}" does not exist`,
    hint: 'list apps with `berth apps`; `berth deploy` creates an app on its first deploy',
  })),
  APP_NAME_INVALID: define<{ name: string }>((p) => ({
    message: `"${p.name}" is not a valid app name`,
    hint: 'use 1-40 lowercase letters, digits and dashes, starting with a letter (it becomes a hostname)',
  })),
  APP_HAS_NO_RELEASE: define<{ app: string }>((p) => ({
    message: `app "${p.app}" has no release yet`,
    hint: `deploy it first: \`berth deploy --app ${p.app}\``,
  })),
  RELEASE_NOT_FOUND: define<{ app: string; release: string }>((p) => ({
    message: `app "${p.app}" has no release "${p.release}"`,
    hint: `list releases with \`berth releases ${p.app}\``,
  })),
  RELEASE_NOT_ROLLBACKABLE: define<{ app: string; release: string; reason: string }>((p) => ({
    message: `cannot roll "${p.app}" back to ${p.release}: ${p.reason}`,
    hint: `list releases with \`berth releases ${p.app}\`; releases marked "kept" can be rolled back to`,
  })),
  DEPLOYMENT_NOT_FOUND: define<{ id: string }>((p) => ({ message: `no deployment "${p.id}"` })),
  DEPLOY_IN_PROGRESS: define<{ app: string; deployment: string; state: string }>((p) => ({
    message: `app "${p.app}" is already deploying (${p.deployment}, ${p.state})`,
    hint: `wait for it (\`berth status ${p.app}\`), or pass --wait to queue behind it`,
  })),
  DOMAIN_TAKEN: define<{ domain: string; app: string }>((p) => ({
    message: `domain "${p.domain}" is already routed to app "${p.app}"`,
    hint: 'remove it from the other app\'s berth.yaml first, or pick another domain',
  })),

  // Manifest and uploads
  MANIFEST_INVALID: define<{ file: string; issues: Issue[] }>((p) => ({
    message:
      `${p.file} is not valid:\n` +
      p.issues.map((i) => `  - ${i.path || '(top level)'}: ${i.message}${i.fix ? ` (fix: ${i.fix})` : ''}`).join('\n'),
  })),
  ARCHIVE_INVALID: define<{ reason: string }>((p) => ({
    message: `the uploaded archive is not a valid gzip-compressed tar: ${p.reason}`,
    hint: 'upload with `berth deploy`, or create the archive with `tar -czf`',
  })),
  DISK_FULL: define<{ what: string }>((p) => ({
    message: `the server's disk is full: ${p.what}`,
    hint: 'free space on the server (`berth doctor` shows how much is left), for example by keeping fewer old releases (`deploy.keep_releases`), then try again',
  })),
  ARCHIVE_UNSAFE_ENTRY: define<{ entry: string; reason: string }>((p) => ({
    message: `the uploaded archive has an unsafe entry "${p.entry}": ${p.reason}`,
    hint: 'archives may hold only regular files and directories with relative paths inside the app folder',
  })),
  ENV_NAME_INVALID: define<{ name: string; reason?: string }>((p) => ({
    message: `"${p.name}" is not a valid environment variable name${p.reason ? `: ${p.reason}` : ''}`,
    hint: 'use letters, digits and underscores, not starting with a digit (for example DATABASE_URL)',
  })),
  ENV_NAME_RESERVED: define<{ name: string }>((p) => ({
    message: `"${p.name}" is set by berth and cannot be changed`,
    hint: 'berth sets PORT and BERTH_* for every process; pick another name',
  })),
  ENV_VALUE_INVALID: define<{ name: string; character: string }>((p) => ({
    message: `the value of ${p.name} contains ${p.character}: env values are text, with no control characters but tabs and line breaks`,
    hint: 'base64-encode binary data (`base64 -w0 < file`) and decode it in the app; the value was not saved',
  })),

  // Images and registries (src/registry/): `registry` is a host such as ghcr.io, `reference` the image as written
  IMAGE_REFERENCE_INVALID: define<{ reference: string; reason: string; fix: string }>((p) => ({
    message: `${JSON.stringify(p.reference.length > 80 ? `${p.reference.slice(0, 80)}...` : p.reference)} is not a valid image reference: ${p.reason}`,
    hint: p.fix,
  })),
  IMAGE_NOT_FOUND: define<{ registry: string; reference: string; reason: string }>((p) => ({
    message: `image ${p.reference} was not found on ${p.registry}: ${p.reason}`,
    hint: `check the name and tag (the registry's web page or \`docker pull ${p.reference}\` elsewhere shows what exists); some registries also answer "not found" for a private image: \`berth registry login ${p.registry} --username USER --password-stdin\``,
  })),
  REGISTRY_AUTH_FAILED: define<{ registry: string; reference?: string; reason: string }>((p) => ({
    message: `registry ${p.registry} refused ${p.reference ? `access to ${p.reference}` : 'the login'}: ${p.reason}`,
    hint: `log in with a user that may pull it: \`berth registry login ${p.registry} --username USER --password-stdin\` (a personal access token as the password for ghcr.io and Docker Hub)`,
  })),
  REGISTRY_UNREACHABLE: define<{ registry: string; reference?: string; reason: string; tls?: boolean }>((p) => ({
    message: `cannot reach registry ${p.registry}${p.reference ? ` for ${p.reference}` : ''}: ${p.reason}`,
    hint: p.tls
      ? 'the registry\'s TLS certificate is not trusted: if it has its own CA, start berth with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (or add the CA to the system store)'
      : `check that the server reaches ${p.registry} (DNS, firewall, proxy) and that the registry is up, then try again`,
  })),
  REGISTRY_ERROR: define<{ registry: string; reference?: string; reason: string }>((p) => ({
    message: `registry ${p.registry} gave an unusable answer${p.reference ? ` for ${p.reference}` : ''}: ${p.reason}`,
    hint: 'the registry is failing or is not a Docker/OCI registry (API v2): check its status and the host name, then try again',
  })),
  REGISTRY_HOST_INVALID: define<{ host: string; reason: string }>((p) => ({
    message: `${JSON.stringify(p.host.length > 80 ? `${p.host.slice(0, 80)}...` : p.host)} is not a registry host: ${p.reason}`,
    hint: 'name the registry as in image references: a host with an optional port, such as ghcr.io, docker.io or 127.0.0.1:5000',
  })),
  REGISTRY_LOGIN_NOT_FOUND: define<{ host: string }>((p) => ({
    message: `berth has no login for registry ${p.host}`,
    hint: 'see the registries berth has logins for with `berth registry list` (hosts are stored as image references name them: docker.io, ghcr.io, 127.0.0.1:5000)',
  })),
  REGISTRY_CREDENTIALS_INVALID: define<{ reason: string }>((p) => ({
    message: `the registry credentials are not valid: ${p.reason}`,
    hint: 'pass the user with --username and the password or access token on standard input (--password-stdin)',
  })),

  // Pulls through the Docker engine (src/runtime/docker/pull-errors.ts); the registry codes above cover the rest
  PULL_TIMEOUT: define<{ registry: string; reference: string; seconds: number; idle: boolean }>((p) => ({
    message: p.idle
      ? `pulling ${p.reference} stalled: no progress from ${p.registry} for ${p.seconds} s`
      : `pulling ${p.reference} from ${p.registry} took longer than ${p.seconds} s`,
    hint: `check that the server reaches ${p.registry} and that it answers (a slow or hanging registry, a proxy in between); nothing was changed, so deploy again once it does`,
  })),
  PULL_FAILED: define<{ reference: string; reason: string }>((p) => ({
    message: `could not pull ${p.reference}: ${p.reason}`,
    hint: `the reason is the Docker engine's; \`docker pull ${p.reference}\` on the server shows the same, and nothing was changed`,
  })),

  // Deploy failures (recorded on the deployment; never HTTP errors of the request that started it)
  BUILD_FAILED: define<{ reason: string }>((p) => ({
    message: `build failed: ${p.reason}`,
    hint: 'the last build lines are shown above; run the same build locally to reproduce',
  })),
  START_FAILED: define<{ reason: string }>((p) => ({
    message: `the new release did not start: ${p.reason}`,
    hint: 'check the start command (`processes.web.command` or package.json "start") and the log lines above',
  })),
  APP_USER_FAILED: define<{ user: string; app: string; reason: string }>((p) => ({
    message: `could not prepare the user ${p.user} that app ${p.app} runs as: ${p.reason}`,
    hint: 'berth runs as root, so it runs each app as a user of its own, made with useradd and removed with userdel: check that both work on this host (the server log has their output), or use --runtime docker',
  })),
  IMAGE_NEEDS_DOCKER: define<{ app: string }>((p) => ({
    message: `app ${p.app} runs a prebuilt image (\`image:\` in berth.yaml), and this server has no Docker Engine to run it`,
    hint: 'install Docker on the server (berth picks it up at its next start: `berth doctor` says which runtime it uses), or deploy the app\'s folder without `image:` to build it here',
  })),
  HEALTH_CHECK_FAILED: define<{ reason: string }>((p) => ({
    message: `the new release never became healthy: ${p.reason}`,
    hint: 'did the app listen on $PORT and answer the health path with 2xx/3xx? Adjust `health:` in berth.yaml if it needs longer',
  })),
  RELEASE_FAILED: define<{ command: string; reason: string }>((p) => ({
    message: `the release command \`${p.command}\` failed: ${p.reason}`,
    hint: 'its output is above; the previous release kept serving and nothing was switched. Fix the command (berth.yaml `release:`) and deploy again',
  })),
  SERVICE_FAILED: define<{ service: string; reason: string }>((p) => ({
    message: `service "${p.service}" is not ready: ${p.reason}`,
    hint: `check its image and health command under \`services.${p.service}\` in berth.yaml; \`docker logs\` of its container says more`,
  })),
  RUNTIME_UNSUPPORTED: define<{ feature: string; runtime: string }>((p) => ({
    message: `${p.feature} needs the docker runtime, and this server runs apps as ${p.runtime}`,
    hint: 'install Docker Engine and restart berth (or pass --runtime docker); `berth doctor` says which runtime berth chose and why',
  })),
  DEPLOY_INTERRUPTED: define<{ state: string }>((p) => ({
    message: `the deployment was interrupted while ${p.state} because the berth daemon stopped`,
    hint: 'the previous release kept serving; deploy again',
  })),

  // Client and server plumbing
  DAEMON_UNREACHABLE: define<{ url: string; reason: string }>((p) => ({
    message: `cannot reach the berth server at ${p.url}: ${p.reason}`,
    hint: 'start it with `berth server` (or `npm run up`), or point BERTH_URL at it',
  })),
  SERVER_ALREADY_RUNNING: define<{ dataDir: string; pid: number }>((p) => ({
    message: `a berth server is already running on ${p.dataDir} (pid ${p.pid})`,
    hint: 'use that one (`berth status`), stop it with `berth down`, or pick another --data directory',
  })),
  CONFIG_INVALID: define<{ issues: Issue[] }>((p) => ({
    message: `server settings are not valid: ${p.issues.map((i) => `${i.path}: ${i.message}${i.fix ? ` (fix: ${i.fix})` : ''}`).join('; ')}`,
    hint: '`berth server --help` lists every setting, its default and its environment variable',
  })),
  USAGE: define<{ message: string; command?: string }>((p) => ({
    message: p.message,
    hint: p.command ? `see \`berth ${p.command} --help\`` : 'see `berth --help`',
  })),
  INTERNAL: define<{ reason: string }>((p) => ({
    message: `internal error: ${p.reason}`,
    hint: 'this is a bug in berth; the server log has details',
  })),
} as const;

export type ErrorCode = keyof typeof catalogue;
export type ErrorParams<C extends ErrorCode> = Parameters<(typeof catalogue)[C]>[0];

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'BerthError';
    this.code = code;
    this.hint = hint;
    this.details = details;
  }

  /**
   * Keeps the error this one wraps, for the server's log and a debugger (`error.cause`); it never reaches
   * an API answer (toJSON leaves it out). `throw fail('BUILD_FAILED', { reason }).because(error)`.
   */
  because(cause: unknown): this {
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
    return this;
  }

  toJSON() {
    return { code: this.code, message: this.message, hint: this.hint, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Builds the catalogue's error for `code`; params that are lists of issues travel along as details. */
export function fail<C extends ErrorCode>(code: C, ...args: ErrorParams<C> extends Record<string, never> ? [] : [ErrorParams<C>]): BerthError {
  const params = (args[0] ?? {}) as never;
  const { message, hint } = (catalogue[code] as Entry<never>)(params);
  const issues = (params as { issues?: Issue[] }).issues;
  return new BerthError(code, message, hint, issues ? { issues } : undefined);
}

export function isBerthError(error: unknown): error is BerthError {
  return error instanceof BerthError;
}
