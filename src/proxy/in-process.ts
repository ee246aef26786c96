import { startProxyServer, type ProxyServer, type ProxyServerOptions } from './server.ts';
import { StaleRouteTableError, type AcmeChallenges, type CertificateSet, type DataPlane, type ProxyInfo, type ProxyStats, type RouteTable } from '../dataplane/route-table.ts';

/**
 * The built-in proxy inside the calling process. Same proxy, no process boundary: for embedding and for
 * tests of the control plane. Unlike the proxy process it stops when its owner does, so the daemon
 * itself uses ./proxy-process.ts.
 */
export function createInProcessDataPlane(options: ProxyServerOptions): DataPlane & { info(): Promise<ProxyInfo | undefined> } {
  let proxy: ProxyServer | undefined;
  const running = () => {
    if (!proxy) throw new Error('the in-process proxy is not started');
    return proxy;
  };
  return {
    async start() {
      proxy ??= await startProxyServer(options);
      return proxy.address;
    },
    async info() {
      return proxy?.info();
    },
    async apply(table: RouteTable) {
      const server = running();
      if (!server.apply(table)) throw new StaleRouteTableError(table.generation, server.table().generation);
    },
    async applyCertificates(set: CertificateSet) {
      const server = running();
      // An invalid set throws InvalidCertificateSetError from here, as the process's 400 does.
      if (!server.applyCertificates(set)) throw new StaleRouteTableError(set.generation, server.certificates().generation, 'certificate set');
    },
    async setChallenges(challenges: AcmeChallenges) {
      running().setChallenges(challenges);
    },
    async stats(): Promise<ProxyStats> {
      return running().stats();
    },
    async detach() {},
    async stop() {
      await proxy?.close(1000);
      proxy = undefined;
    },
  };
}
