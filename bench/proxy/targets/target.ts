/** What the measurement loop needs to know about one configuration under test. */
import type { Cleanup } from '../../lib/cleanup.ts';

export interface Target {
  key: 'direct' | 'nginx' | 'caddy' | 'undici' | 'berth' | 'berth-bare' | 'berth-log' | 'berth-split';
  label: string;
  port: number;
  /** Root of the proxy's process tree, whose CPU is counted; undefined when there is no proxy. */
  pid?: number;
  /** One line on how it is set up, for the report. */
  setup: string;
}

export interface TargetContext {
  /** Private temp directory for configs, sockets and logs. */
  dir: string;
  upstreamPort: number;
  /** The Host every request carries and every proxy routes on. */
  host: string;
  node: string;
  /** Tool name -> absolute path. */
  tools: Record<string, string>;
  cleanup: Cleanup;
}
