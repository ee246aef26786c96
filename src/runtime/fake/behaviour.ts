/**
 * What a fake instance does, read from the artifact's `.berth-fake.json`. Each contract fixture carries
 * one describing the same behaviour as its real server.js, so the fake and the process driver can be held
 * to the same contract. Tests of the layers above write their own to script health failures, crashes, etc.
 */
export interface FakeBehaviour {
  /** `fail` makes build() reject with BUILD_FAILED after logging buildLog. */
  build?: 'ok' | 'fail';
  buildLog?: string[];
  /** How long build() takes (on the driver's clock); abortable. */
  buildDelayMs?: number;
  /** Answer of GET /health: 200, 500, or 200 after healthDelayMs. */
  health?: 'ok' | 'fail' | 'slow';
  healthDelayMs?: number;
  /** Exit on its own this long after start, with exitCode (default 1). */
  crashAfterMs?: number;
  exitCode?: number;
  /** SIGTERM does nothing; only SIGKILL (after the stop timeout) ends it. */
  ignoreSigterm?: boolean;
  /** false: never listens, even when the spec asks for a port. */
  port?: boolean;
  /** Lines written at start to stdout / stderr; `${NAME}` is replaced by the instance's env value. */
  logs?: string[];
  stderr?: string[];
  /** Writes `<line> <n>` (n = 1, 2, ...) to stdout every everyMs. */
  repeat?: { everyMs: number; line: string };
  /** Reported by GET / so tests can tell releases apart. */
  version?: string;
  /** One-off runs from this artifact (release command, `berth run`), by command: output, time, exit code. */
  oneOff?: Record<string, { output?: string[]; delayMs?: number; exitCode?: number }>;
  /** The file a running instance keeps fresh (a heartbeat check on any other file fails). */
  heartbeatFile?: string;
  /** The process hangs this long after it starts: its heartbeat stops being fresh (until a restart). */
  hangAfterMs?: number;
  /** What a check command says when it is not literally `exit N`; default ok. */
  check?: 'ok' | 'fail';
}

export const FAKE_BEHAVIOUR_FILE = '.berth-fake.json';

/** Replaces `${NAME}` with env[NAME] (empty when unset), like a shell would expand it. */
export function expand(template: string, env: Record<string, string>): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
}
