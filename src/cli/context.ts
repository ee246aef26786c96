/** What every command gets: its I/O, the global flags, and lazy access to the server and to Ctrl-C. */
import type { Globals } from './args.ts';
import { ApiClient } from './client.ts';
import { loadTarget, type Target } from './config.ts';
import { colorEnabled, processIo, style, type Io, type Style } from './io.ts';

export interface Context {
  io: Io;
  globals: Globals;
  /** The server to talk to, resolved on first use (commands like `init` never need one). */
  target(): Promise<Target>;
  client(): Promise<ApiClient>;
  /**
   * Aborted on Ctrl-C. Asking for it installs the handler; commands that never ask keep Node's default
   * (exit at once). A second Ctrl-C, or one second without the command finishing, exits anyway.
   */
  interrupted(): AbortSignal;
  now(): number;
  /** Removes the Ctrl-C handler, if one was installed. */
  close(): void;
  out: Style;
  err: Style;
}

export function createContext(globals: Globals, io: Io = processIo()): Context {
  let target: Promise<Target> | undefined;
  let controller: AbortController | undefined;
  let onSigint: (() => void) | undefined;
  const resolveTarget = () => (target ??= loadTarget({ url: globals.url, token: globals.token }, io.env));
  return {
    io,
    globals,
    target: resolveTarget,
    client: async () => {
      const t = await resolveTarget();
      return new ApiClient({ url: t.url, token: t.token });
    },
    interrupted: () => {
      if (!controller) {
        const own = new AbortController();
        controller = own;
        onSigint = () => {
          if (own.signal.aborted) process.exit(130);
          own.abort(new DOMException('interrupted', 'AbortError'));
          setTimeout(() => process.exit(130), 1000).unref();
        };
        process.on('SIGINT', onSigint);
      }
      return controller.signal;
    },
    now: () => Date.now(),
    close: () => {
      if (onSigint) process.off('SIGINT', onSigint);
      onSigint = undefined;
    },
    out: style(colorEnabled(io.stdout, io.env)),
    err: style(colorEnabled(io.stderr, io.env)),
  };
}
