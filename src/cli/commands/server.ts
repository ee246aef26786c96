/** `berth server`: the daemon in the foreground. The server module loads only here, keeping other commands quick. */
import { formatHostPort } from '../../lib/host-port.ts';
import { dataFiles, resolveServerConfig, type ServerConfig, type ServerFlags } from '../../server/config.ts';
import { parseCommandArgs, type CommandSpec, type FlagValues, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { cliVersion } from '../version.ts';

export const spec: CommandSpec = {
  name: 'server',
  usage: 'berth server [--data DIR] [--api HOST:PORT] [--http HOST:PORT] [--https HOST:PORT|off] [--base-domain DOMAIN] [--runtime auto|docker|process] [--acme-directory URL|staging] [--acme-email EMAIL] [--max-upload SIZE] [--log-level LEVEL]',
  summary: 'Run the berth daemon in the foreground (`berth up` runs it in the background).',
  details: [
    'Each flag falls back to an environment variable (BERTH_DATA, BERTH_API, BERTH_HTTP, BERTH_HTTPS, BERTH_BASE_DOMAIN, BERTH_RUNTIME, BERTH_NODE_IMAGE, BERTH_BUILD_MEMORY, BERTH_BUILD_CPUS, BERTH_MAX_UPLOAD, BERTH_LOG_LEVEL, BERTH_ACME_DIRECTORY, BERTH_ACME_EMAIL, BERTH_ACME_CA, BERTH_ACME_RESOLVER, BERTH_ACME_CHALLENGE_PORT, BERTH_ACCESS_LOG_MAX_SIZE, BERTH_ACCESS_LOG_KEEP), then to its default. Ctrl-C or SIGTERM stops it; apps keep running unless the server is stopped with `berth down`.',
    'HTTPS: every name in an app\'s `domains` gets a certificate from the ACME CA on its own (Let\'s Encrypt unless --acme-directory says otherwise, agreeing to its terms of service), once the name resolves to this server and port 80 (or --acme-challenge-port) reaches the --http listener. Servers listen with --http 0.0.0.0:80 --https 0.0.0.0:443; the README says how without root.',
  ],
  flags: {
    data: { type: 'string', value: 'DIR', doc: 'data directory (default: /var/lib/berth for root, else $XDG_DATA_HOME/berth or ~/.local/share/berth)' },
    api: { type: 'string', value: 'HOST:PORT', doc: 'control API address (default 127.0.0.1:7171)' },
    http: { type: 'string', value: 'HOST:PORT', doc: 'where apps are served (default 0.0.0.0:8080)' },
    https: { type: 'string', value: 'HOST:PORT', doc: 'where apps are served over TLS, or off (default 0.0.0.0:8443)' },
    'acme-directory': { type: 'string', value: 'URL', doc: 'the ACME CA\'s directory; staging for Let\'s Encrypt\'s test CA (default Let\'s Encrypt production)' },
    'acme-email': { type: 'string', value: 'EMAIL', doc: 'contact address of berth\'s ACME account (expiry warnings)' },
    'acme-ca': { type: 'string', value: 'FILE', doc: 'PEM of a CA trusted for the ACME server besides the system\'s (a private CA, pebble)' },
    'acme-resolver': { type: 'string', value: 'IP:PORT', doc: 'DNS server the pre-flight asks whether a domain resolves (default the system\'s resolver)' },
    'acme-challenge-port': { type: 'string', value: 'PORT', doc: 'the port the CA validates on, forwarded to --http (default the --http port)' },
    'base-domain': { type: 'string', value: 'DOMAIN', doc: 'apps are served at <app>.DOMAIN (default localhost)' },
    runtime: { type: 'string', value: 'MODE', doc: 'auto (docker when an engine answers, else host processes), docker or process' },
    'node-image': { type: 'string', value: 'IMAGE', doc: 'base image of the Dockerfile berth writes for Node apps (default node:24-slim)' },
    'build-memory': { type: 'string', value: 'SIZE', doc: 'memory cap of an image build (default half the RAM, at most 2gb)' },
    'build-cpus': { type: 'string', value: 'N', doc: 'CPU cap of an image build (default all cores but one)' },
    'max-upload': { type: 'string', value: 'SIZE', doc: 'largest accepted upload, such as 200mb' },
    'log-level': { type: 'string', value: 'LEVEL', doc: 'debug, info, warn or error' },
    'access-log-max-size': { type: 'string', value: 'SIZE', doc: 'the access log (DATA/logs/access) is rotated at this size (default 64mb)' },
    'access-log-keep': { type: 'string', value: 'DURATION', doc: 'rotated access logs older than this are deleted (default 14d); 0 turns the access log off' },
    'log-retention': { type: 'string', value: 'DURATION', doc: 'app log lines berth keeps older than this are deleted, hourly (default 14d; 1h to 3650d)' },
    metrics: { type: 'string', value: 'HOST:PORT', doc: 'also serve GET /metrics there, without a token, for a local Prometheus (default off; GET /v1/metrics on the API always, with the token)' },
  },
  args: [],
};

export interface ServerArgs {
  globals: Globals;
  flags: ServerFlags;
}

/** Command-line spelling to resolveServerConfig's; unset flags stay unset so env vars apply. */
export function serverFlags(values: FlagValues): ServerFlags {
  const flags: ServerFlags = {};
  const take = (flag: string, key: keyof ServerFlags) => {
    if (typeof values[flag] === 'string') flags[key] = values[flag] as string;
  };
  take('data', 'data');
  take('api', 'api');
  take('http', 'http');
  take('base-domain', 'baseDomain');
  take('max-upload', 'maxUpload');
  take('log-level', 'logLevel');
  take('runtime', 'runtime');
  take('node-image', 'nodeImage');
  take('build-memory', 'buildMemory');
  take('build-cpus', 'buildCpus');
  take('https', 'https');
  take('acme-directory', 'acmeDirectory');
  take('acme-email', 'acmeEmail');
  take('acme-ca', 'acmeCa');
  take('acme-resolver', 'acmeResolver');
  take('acme-challenge-port', 'acmeChallengePort');
  take('access-log-max-size', 'accessLogMaxSize');
  take('access-log-keep', 'accessLogKeep');
  take('metrics', 'metrics');
  take('log-retention', 'logRetention');
  return flags;
}

export function parse(argv: string[]): ServerArgs {
  const { flags, globals } = parseCommandArgs(spec, argv);
  return { globals, flags: serverFlags(flags) };
}

type ServerModule = typeof import('../../server/start.ts');
type RunningServer = Awaited<ReturnType<ServerModule['startServer']>>;

/** `http://<app>.localhost:8080`, without the port when it is 80. */
export function appUrlPattern(baseDomain: string, port: number): string {
  return `http://<app>.${baseDomain}${port === 80 ? '' : `:${port}`}`;
}

export function startupText(config: ServerConfig, server: Pick<RunningServer, 'apiUrl' | 'httpAddress'> & { httpsAddress?: { host: string; port: number } | null }): string {
  const rows = [
    ['API', server.apiUrl],
    ['apps', `${appUrlPattern(config.baseDomain, server.httpAddress.port)} (listening on ${formatHostPort(server.httpAddress)})`],
    ['https', server.httpsAddress ? `${formatHostPort(server.httpsAddress)} (certificates from ${config.acme.directoryUrl} for the names in \`domains\`)` : 'off'],
    ['admin token', `${dataFiles(config.dataDir).adminToken} (send as \`Authorization: Bearer ...\`)`],
    ['data', config.dataDir],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return [`berth server ${cliVersion()}`, ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`), 'Ctrl-C stops the server', ''].join('\n');
}

export async function run(args: ServerArgs, ctx: Context): Promise<number> {
  const config = resolveServerConfig(args.flags, ctx.io.env);
  // A computed specifier: the server is a separate module the CLI loads only when it runs the daemon.
  const { startServer } = (await import(new URL('../../server/start.ts', import.meta.url).href)) as ServerModule;
  const server = await startServer(config);
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify({ apiUrl: server.apiUrl, http: server.httpAddress, https: server.httpsAddress, dataDir: config.dataDir, adminTokenFile: dataFiles(config.dataDir).adminToken }) + '\n');
  } else {
    ctx.io.stdout.write(startupText(config, server));
  }
  // The server handles SIGINT and SIGTERM itself (graceful shutdown); this only waits for it to finish.
  await server.stopped;
  return 0;
}
