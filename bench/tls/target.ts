/** One TLS-terminating proxy under test, and what starting one needs. */
import type { Cleanup } from '../lib/cleanup.ts';
import type { BenchCertificate } from './cert.ts';

export interface TlsTarget {
  key: 'nginx' | 'berth';
  label: string;
  /** The TLS port (HTTP/1.1 and h2 by ALPN). */
  port: number;
  /** Root of the proxy's process tree, whose CPU is counted. */
  pid: number;
  /** One line on how it is set up, for the report. */
  setup: string;
}

export interface TlsTargetContext {
  /** Private temp directory for configs, sockets and logs. */
  dir: string;
  upstreamPort: number;
  cert: BenchCertificate;
  node: string;
  /** Tool name -> absolute path. */
  tools: Record<string, string>;
  cleanup: Cleanup;
}

/** Idle keep-alive connections a proxy keeps per upstream: berth's pool default (src/proxy/server.ts), given to nginx too. */
export const UPSTREAM_IDLE = 128;
