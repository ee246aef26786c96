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
  // berth chaos (deploy/chaos.ts): each names its field; the limits are model/wire-chaos.ts's.
  CHAOS_MODE_INVALID: define<{ mode: string }>((p) => ({
    message: `mode: "${p.mode.slice(0, 40)}" is not a chaos mode`,
    hint: 'use slow (with latencyMs), error (with status and ratio), or `berth chaos APP off`',
  })),
  CHAOS_LATENCY_INVALID: define<{ value: string }>((p) => ({
    message: `latencyMs: ${p.value.slice(0, 40)} is out of range`,
    hint: 'give a latency from 1ms to 60s, for example --latency 2s',
  })),
  CHAOS_STATUS_INVALID: define<{ value: string }>((p) => ({
    message: `status: ${p.value.slice(0, 40)} is not a status chaos answers with`,
    hint: 'use 429 or a status from 500 to 599, for example --status 503',
  })),
  CHAOS_RATIO_INVALID: define<{ value: string }>((p) => ({
    message: `ratio: ${p.value.slice(0, 40)} is out of range`,
    hint: 'give the share of requests to fail, more than 0 and at most 1, for example --ratio 0.3',
  })),
  CHAOS_DURATION_INVALID: define<{ value: string }>((p) => ({
    message: `forMs: ${p.value.slice(0, 40)} is out of range`,
    hint: 'chaos lasts from 1s to 24h (default 10m), for example --for 15m',
  })),
  CHAOS_RELEASE_UNKNOWN: define<{ app: string; release: string }>((p) => ({
    message: `release: app "${p.app}" has no release "${p.release.slice(0, 40)}"`,
    hint: `name one of its releases as v3; list them with \`berth releases ${p.app}\``,
  })),
  METRICS_WINDOW_INVALID: define<{ window: string; allowed: readonly string[] }>((p) => ({
    message: `window: "${p.window.slice(0, 40)}" is not a metrics window`,
    hint: `use one of ${p.allowed.join(', ')} (for example window=5m)`,
  })),
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
  CHECK_FAILED: define<{ check: string; command: string; reason: string; when: 'build' | 'switch'; timedOut: boolean }>((p) => ({
    message: `check \`${p.check}\` failed: ${p.reason}`,
    hint:
      `its output is above; the previous release kept serving and ${p.when === 'build' ? 'nothing was started' : 'no traffic moved to the new instances'}. ` +
      (p.timedOut
        ? `Make \`${p.command}\` finish sooner, or raise its \`timeout\` under \`checks\` in berth.yaml, and deploy again`
        : `Fix what \`${p.command}\` reports and deploy again (\`berth deploy --skip-checks\` deploys without the pipeline, and the audit records it)`),
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

  // Certificates from ACME (src/certs/): each a reason a domain has no certificate yet, recorded on it and
  // in a `cert.failed` event; berth tries again on its own (back-off from 1 minute to 6 hours)
  ACME_DNS: define<{ domain: string; resolver: string | null; reason: string }>((p) => ({
    message: `${p.domain} does not resolve ${p.resolver ? `at the DNS server ${p.resolver}` : 'on this server'}: ${p.reason}; berth asked the CA for nothing`,
    hint: `add an A (and/or AAAA) record for ${p.domain} pointing at this server's public address and check it with \`dig ${p.domain}\`; berth tries again on its own`,
  })),
  ACME_UNREACHABLE: define<{ domain: string; addresses: string[]; port: number; reason: string }>((p) => ({
    message: `http://${p.domain}${p.port === 80 ? '' : `:${p.port}`}/.well-known/acme-challenge/ does not reach this berth: ${p.domain} resolves to ${p.addresses.join(', ')}, and ${p.reason}; berth asked the CA for nothing`,
    hint: `the CA checks the domain on port ${p.port}: point ${p.domain} at this server, let port ${p.port} through the firewall (a port-forward to berth's HTTP listener is fine), or set --acme-challenge-port to the port that reaches berth's HTTP listener; berth tries again on its own`,
  })),
  ACME_RATE_LIMITED: define<{ domain: string; detail: string; retryAt: string | null }>((p) => ({
    message: `the CA refused a certificate for ${p.domain} for now (rate limit): ${p.detail}`,
    hint: `berth tries again ${p.retryAt ? `after ${p.retryAt}, as the CA asked` : 'later, on its own'}; meanwhile any certificate already held keeps serving. Test with \`--acme-directory staging\` to spare the production limits`,
  })),
  ACME_REFUSED: define<{ domain: string; detail: string }>((p) => ({
    message: `the CA refused a certificate for ${p.domain}: ${p.detail}`,
    hint: 'the CA\'s reason is above (a failed challenge names what the CA reached instead of berth); fix that and berth tries again on its own',
  })),
  ACME_CA_UNREACHABLE: define<{ directory: string; reason: string }>((p) => ({
    message: `cannot get an answer from the ACME CA at ${p.directory}: ${p.reason}`,
    hint: 'check that this server reaches the CA (DNS, firewall, proxy) and the --acme-directory URL; a CA with its own root needs --acme-ca FILE. berth tries again on its own',
  })),
  ACME_WILDCARD: define<{ domain: string }>((p) => ({
    message: `${p.domain} is a wildcard: berth gets certificates with HTTP-01 challenges, which a CA never accepts for a wildcard`,
    hint: `add a certificate for it yourself: \`berth certs add '${p.domain}' --cert FILE --key FILE\` (or list each name in \`domains\`)`,
  })),

  // Notifications (`berth notify`, src/notify/)
  NOTIFIER_NAME_INVALID: define<{ name: string }>((p) => ({
    message: `${JSON.stringify(p.name.length > 60 ? `${p.name.slice(0, 60)}...` : p.name)} is not a valid notifier name`,
    hint: 'name: use 1-40 lowercase letters, digits and dashes, starting with a letter (like an app name), e.g. `ops-slack`',
  })),
  NOTIFIER_URL_INVALID: define<{ field: string; reason: string }>((p) => ({
    message: `${p.field} is not a URL berth can post to: ${p.reason}`,
    hint: `${p.field}: give the full http:// or https:// URL with its host, e.g. https://hooks.slack.com/services/T0123/B0456/abcdef789 (at most 2048 characters)`,
  })),
  NOTIFIER_EVENTS_INVALID: define<{ unknown: string[]; reason: string }>((p) => ({
    message: `events: ${p.unknown.length ? `${p.unknown.map((t) => JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}...` : t)).join(', ')}: ` : ''}${p.reason}`,
    hint: 'events: list event types separated by commas, e.g. `--events deploy.failed,instance.crashloop`; leave it out for the default set (`berth notify add --help` lists it)',
  })),
  NOTIFIER_SECRET_INVALID: define<{ reason: string }>((p) => ({
    message: `secret: ${p.reason}`,
    hint: 'secret: give 16-256 printable characters without spaces, or leave --secret out and berth generates one (shown once)',
  })),
  NOTIFIER_EXISTS: define<{ name: string }>((p) => ({
    message: `a notifier named "${p.name}" already exists`,
    hint: `pick another name, or replace it: \`berth notify remove ${p.name}\` then add it again`,
  })),
  NOTIFIER_NOT_FOUND: define<{ name: string }>((p) => ({
    message: `no notifier named "${p.name}"`,
    hint: 'list them with `berth notify list`',
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

  // Own certificates (`berth certs add`, src/certs/own-certificate.ts) and the certificates API
  CERT_DOMAIN_INVALID: define<{ domain: string }>((p) => ({
    message: `"${p.domain}" is not a domain a certificate can be for`,
    hint: 'give a DNS name such as `shop.example.com`, or `*.example.com` for a wildcard certificate (as `domains:` in berth.yaml takes them)',
  })),
  CERT_INVALID: define<{ reason: string }>((p) => ({
    message: `the certificate is not usable: ${p.reason}`,
    hint: 'give the PEM file with the certificate first, then its intermediates (`fullchain.pem` for most CAs); `openssl x509 -in FILE -noout -subject` reads one',
  })),
  CERT_KEY_INVALID: define<{ reason: string }>((p) => ({
    message: `the private key is not usable: ${p.reason}`,
    hint: 'give the certificate\'s private key as a PEM file (`privkey.pem` for most CAs); `openssl pkey -in FILE -noout` checks that it reads',
  })),
  CERT_KEY_ENCRYPTED: define(() => ({
    message: 'the private key is encrypted with a passphrase, and the proxy has nobody to type it',
    hint: 'decrypt it into a file only you can read (`openssl pkey -in key.pem -out plain.pem`), give that with --key, then delete it: berth keeps the key sealed',
  })),
  CERT_KEY_MISMATCH: define<{ subject: string }>((p) => ({
    message: `the private key does not belong to the certificate (${p.subject})`,
    hint: 'give the key made with this certificate\'s request; `openssl x509 -in CERT -noout -pubkey` and `openssl pkey -in KEY -pubout` print the same public key for a matching pair',
  })),
  CERT_NAME_MISMATCH: define<{ domain: string; names: string[]; onlyInSubject: boolean }>((p) => ({
    message: p.onlyInSubject
      ? `the certificate names ${p.domain} only in its subject's common name, which browsers ignore: it has no subjectAltName for it`
      : `the certificate is not for ${p.domain}: it covers ${p.names.length ? p.names.join(', ') : 'no DNS name (no subjectAltName)'}`,
    hint: p.domain.startsWith('*.')
      ? `a wildcard domain needs a wildcard certificate (subjectAltName DNS:${p.domain}); or add the certificate for each name it covers`
      : `add it for a name it covers, or get one whose subjectAltName lists ${p.domain}`,
  })),
  CERT_EXPIRED: define<{ which: string; notAfter: string }>((p) => ({
    message: `${p.which} expired at ${p.notAfter}`,
    hint: 'renew it with the CA and add the new one; or remove it (`berth certs remove DOMAIN`) and let berth get one from ACME for a domain an app lists',
  })),
  CERT_NOT_YET_VALID: define<{ which: string; notBefore: string }>((p) => ({
    message: `${p.which} is not valid before ${p.notBefore}`,
    hint: 'add it once it is valid; if that time has passed, the server\'s clock is behind: check it (`timedatectl`)',
  })),
  CERT_CHAIN_ORDER: define<{ reason: string }>((p) => ({
    message: `the certificate chain is out of order: ${p.reason}`,
    hint: 'put the server\'s certificate first, then the one that issued it, and so on toward the root (`fullchain.pem` is in that order)',
  })),
  CERT_CHAIN_INVALID: define<{ reason: string }>((p) => ({
    message: `the certificate chain does not hold together: ${p.reason}`,
    hint: 'give only the certificate and the intermediates its CA sent with it, in that order',
  })),
  CERT_UNUSABLE: define<{ reason: string }>((p) => ({
    message: `the TLS library refuses this certificate and key: ${p.reason}`,
    hint: 'a key or signature too weak for current TLS (an RSA key under 2048 bits, SHA-1) is refused: get a certificate with an RSA 2048+ or an ECDSA P-256 key',
  })),
  CERT_NOT_FOUND: define<{ domain: string }>((p) => ({
    message: `berth has no certificate for ${p.domain}`,
    hint: 'list them with `berth certs`; add one with `berth certs add DOMAIN --cert FILE --key FILE`',
  })),
  // Policy gates (src/policy)
  POLICY_DENIED: define<{ policy: string; reason: string; source: string }>((p) => ({
    message: `policy "${p.policy}" denied the deploy: ${p.reason}`,
    hint: `the policy is in ${p.source}; \`berth policy check APP\` shows every verdict now; change what it measures, or edit the policy (a server policy's file in DATA/policies is read again on each use)`,
  })),
  POLICY_INVALID: define<{ problems: readonly string[] }>((p) => ({
    message: `${p.problems.length === 1 ? 'a policy does' : `${p.problems.length} policies do`} not load, so the gate refuses (it fails closed): ${p.problems.slice(0, 5).join('; ')}${p.problems.length > 5 ? `; and ${p.problems.length - 5} more` : ''}`,
    hint: 'fix the file and policy named (a server policy: DATA/policies/*.yaml; an app policy: `policies:` in berth.yaml); `berth policy list` shows what loads',
  })),
  // Canary rollouts (deploy/canary/)
  NO_CANARY_RUNNING: define<{ app: string }>((p) => ({
    message: `app "${p.app}" has no canary running`,
    hint: `a canary runs while a deploy with \`deploy.strategy: canary\` (or \`berth deploy --strategy canary\`) judges its steps; \`berth status ${p.app}\` shows what the app is doing`,
  })),
  CANARY_FAILED: define<{ canary: string; stable: string; verdict: string }>((p) => ({
    message: `canary ${p.canary} aborted: ${p.verdict}`,
    hint: `all traffic went back to ${p.stable}, which kept serving; \`berth audit\` lists the verdict; fix the release and deploy again, or change the policy (\`berth policy list\`)`,
  })),
  CANARY_INCONCLUSIVE: define<{ canary: string; stable: string; requests: number; minRequests: number; step: string; waitedMs: number }>((p) => ({
    message: `canary ${p.canary} inconclusive: ${p.requests} requests in step ${p.step}, fewer than min_requests (${p.minRequests}) ${Math.round(p.waitedMs / 1000)} s past the step's end`,
    hint: `all traffic went back to ${p.stable}; deploy again when the app has traffic, or lower \`deploy.canary.min_requests\` / raise \`deploy.canary.max_wait\` in berth.yaml`,
  })),
  CANARY_ABORTED: define<{ canary: string; stable: string; reason: string }>((p) => ({
    message: `canary ${p.canary} aborted: ${p.reason}`,
    hint: `all traffic went back to ${p.stable}, which kept serving; deploy again when ready`,
  })),
  CANARY_PROMOTE_DENIED: define<{ canary: string; reason: string }>((p) => ({
    message: `promotion of canary ${p.canary} refused: ${p.reason}`,
    hint: 'the canary keeps running its steps; `berth status APP` shows the last verdicts; `berth abort APP` puts all traffic back on the stable release',
  })),
  CERT_NOT_RENEWABLE: define<{ domain: string; why: 'own' | 'unlisted' | 'wildcard' | 'covered' | 'https-off' }>((p) => {
    switch (p.why) {
      case 'https-off':
        return {
          message: `this server runs without HTTPS, so it asks ACME for nothing (${p.domain} included)`,
          hint: 'start `berth server` with --https HOST:PORT (env BERTH_HTTPS; the default is 0.0.0.0:8443, `off` turns it off)',
        };
      case 'own':
        return {
          message: `the certificate for ${p.domain} is your own: berth renews only the certificates it gets from ACME`,
          hint: `renew it with its CA and add the new one (\`berth certs add ${p.domain} --cert FILE --key FILE\` replaces it); or remove it to let berth get one from ACME when an app lists ${p.domain}`,
        };
      case 'unlisted':
        return {
          message: `no app lists ${p.domain} under \`domains\` any more: berth serves its certificate until it expires, and renews it no more`,
          hint: `list ${p.domain} under \`domains\` in an app's berth.yaml and deploy it: berth then renews the certificate`,
        };
      case 'wildcard':
        return {
          message: `${p.domain} is a wildcard, which ACME cannot validate over HTTP-01: berth asks ACME nothing for it`,
          hint: `add your own wildcard certificate: \`berth certs add '${p.domain}' --cert FILE --key FILE\``,
        };
      case 'covered':
        return {
          message: `your own certificate covers ${p.domain}, so berth asks ACME nothing for it`,
          hint: 'renew your own certificate with its CA and add the new one (`berth certs` lists it); or remove it to let berth get one from ACME',
        };
    }
  }),
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
