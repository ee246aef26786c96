/**
 * The data-plane process:
 *   node src/proxy/main.ts --listen HOST:PORT --socket PATH --state PATH
 *                          [--https HOST:PORT --certs PATH --sealing-key PATH]
 *                          [--access-log DIR [--access-log-max-bytes N] [--access-log-keep-days D]]
 *                          [--stats off]
 * It runs apart from the control plane so that restarting or upgrading the berth daemon never drops
 * app traffic: it keeps serving its last route table and certificates, and reloads both from disk if it
 * restarts itself (the certificates' keys sealed with the daemon's key: never a plain key on disk).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ACCESS_LOG_DEFAULTS } from '../dataplane/access-log.ts';
import { emptyCertificateSet, emptyRouteTable, type CertificateSet, type RouteTable } from '../dataplane/route-table.ts';
import { certificateSetProblems } from '../dataplane/validate-certificates.ts';
import { routeTableProblems } from '../dataplane/validate-table.ts';
import { parseHostPort } from '../lib/host-port.ts';
import { createLogger } from '../lib/log.ts';
import { createSealer, type Sealer } from '../secrets/sealer.ts';
import { startAdmin } from './admin.ts';
import { latestSaver } from './latest-saver.ts';
import { startProxyServer } from './server.ts';
import { openCertificateSet, sealCertificateSet } from './tls/saved-certificates.ts';

export async function runProxyProcess(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      https: { type: 'string' },
      socket: { type: 'string' },
      state: { type: 'string' },
      certs: { type: 'string' },
      'sealing-key': { type: 'string' },
      version: { type: 'string', default: '0' },
      'drain-grace': { type: 'string', default: '10000' },
      'access-log': { type: 'string' },
      'access-log-max-bytes': { type: 'string', default: String(ACCESS_LOG_DEFAULTS.maxFileBytes) },
      'access-log-keep-days': { type: 'string', default: String(ACCESS_LOG_DEFAULTS.keepDays) },
      // Only as a benchmark's reference: status and latency not counted.
      stats: { type: 'string', default: 'on' },
    },
  });
  const log = createLogger({ fields: { component: 'proxy', pid: process.pid } });
  const listen = values.listen ? parseHostPort(values.listen) : undefined;
  const https = values.https ? parseHostPort(values.https) : undefined;
  const maxFileBytes = Number(values['access-log-max-bytes']);
  const keepDays = Number(values['access-log-keep-days']);
  const accessLogOk = Number.isSafeInteger(maxFileBytes) && maxFileBytes >= 1024 && keepDays > 0 && keepDays <= 3650;
  if (!listen || !values.socket || !values.state || (values.https && !https) || (https && (!values.certs || !values['sealing-key'])) || !accessLogOk) {
    log.error(
      'usage: main.ts --listen HOST:PORT --socket PATH --state PATH [--https HOST:PORT --certs PATH --sealing-key PATH] [--access-log DIR --access-log-max-bytes N (>= 1024) --access-log-keep-days D (> 0)]',
    );
    process.exit(2);
  }
  const warn = (message: string) => log.warn(message);
  const statePath = values.state;
  const table = loadTable(statePath, warn);
  const sealer = sealerAt(values['sealing-key']);
  const certsPath = values.certs;
  const certificates = certsPath ? loadCertificates(certsPath, sealer, warn) : emptyCertificateSet();

  const accessLog = values['access-log'] ? { dir: values['access-log'], maxFileBytes, keepDays, warn } : undefined;
  const proxy = await startProxyServer({ host: listen.host, port: listen.port, https, reusePort: true, version: values.version, accessLog, countStats: values.stats !== 'off' });
  proxy.apply(table);
  try {
    proxy.applyCertificates(certificates);
  } catch (error) {
    warn(`ignoring saved certificates ${certsPath}: ${(error as Error).message}`);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: draining connections');
    admin.close();
    await proxy.close(Number(values['drain-grace']));
    await Promise.all([tables.saved(), certSets?.saved()]);
    log.info('stopped');
    process.exit(0);
  };
  const tables = latestSaver<RouteTable>({ path: statePath, mode: 0o644, serialize: (t) => JSON.stringify(t), warn });
  const certSets = certsPath
    ? latestSaver<CertificateSet>({
        path: certsPath,
        mode: 0o600,
        serialize: (set) => {
          const open = sealer();
          if (!open) throw new Error(`no sealing key at ${values['sealing-key']}: certificates are kept in memory only`);
          return sealCertificateSet(set, open);
        },
        warn,
      })
    : null;
  const admin = await startAdmin({
    socketPath: values.socket,
    proxy,
    onApply: (t) => tables.save(t),
    onCertificates: (set) => certSets?.save(set),
    onStop: () => void stop(),
  });
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  log.info('proxy ready', {
    address: proxy.address,
    httpsAddress: proxy.httpsAddress,
    generation: table.generation,
    apps: Object.keys(table.apps).length,
    certificates: certificates.certificates.length,
    accessLog: accessLog ? { dir: accessLog.dir, maxFileBytes, keepDays } : null,
  });
}

/** The daemon's sealing key, read when first needed (the daemon makes it before it starts the proxy); null without one. */
function sealerAt(path: string | undefined): () => Sealer | null {
  let sealer: Sealer | null = null;
  return () => {
    if (sealer || !path || !existsSync(path)) return sealer;
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    sealer = key.length === 32 ? createSealer(key) : null;
    return sealer;
  };
}

function loadTable(path: string, warn: (message: string) => void): RouteTable {
  if (!existsSync(path)) return emptyRouteTable();
  try {
    const table = JSON.parse(readFileSync(path, 'utf8'));
    const problems = routeTableProblems(table);
    if (problems.length === 0) return table;
    warn(`ignoring saved route table ${path}: ${problems.join('; ')}`);
  } catch (error) {
    warn(`ignoring unreadable route table ${path}: ${(error as Error).message}`);
  }
  return emptyRouteTable();
}

/** The saved set, keys opened and checked as a pushed set is; an empty one when it cannot be (the daemon pushes it again). */
function loadCertificates(path: string, sealer: () => Sealer | null, warn: (message: string) => void): CertificateSet {
  if (!existsSync(path)) return emptyCertificateSet();
  try {
    const open = sealer();
    if (!open) throw new Error('no sealing key to open it with');
    const set = openCertificateSet(readFileSync(path, 'utf8'), open);
    const problems = certificateSetProblems(set);
    if (problems.length === 0) return set;
    warn(`ignoring saved certificates ${path}: ${problems.join('; ')}`);
  } catch (error) {
    warn(`ignoring unreadable saved certificates ${path}: ${(error as Error).message}`);
  }
  return emptyCertificateSet();
}

if (import.meta.main) {
  runProxyProcess(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`proxy failed to start: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
