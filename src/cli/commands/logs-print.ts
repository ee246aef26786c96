/**
 * What `berth logs` and `berth logs --access` share: times as people read them, text from apps and
 * clients made safe for a terminal, and following an event stream until Ctrl-C.
 */
import { isBerthError } from '../../errors/catalogue.ts';
import type { SseMessage } from '../sse.ts';
import { CliError, isAbort } from '../errors.ts';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `12:03:04.512` in local time (UTC when asked), with the date in front when it is not from today. */
export function formatTime(iso: string, now: number, options: { utc?: boolean } = {}): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return iso;
  const today = new Date(now);
  const get = options.utc
    ? (d: Date) => [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : (d: Date) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  const [y, mo, d, h, mi, s, ms] = get(date);
  const [ty, tmo, td] = get(today);
  const time = `${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`;
  return y === ty && mo === tmo && d === td ? time : `${y}-${pad(mo)}-${pad(d)} ${time}`;
}

// C0 controls but tab, DEL, C1 controls, and the line and paragraph separators.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Text someone else wrote (an app's output, a client's path), shown as it is but with control characters
 * escaped (`\x1b`): an escape sequence in a log line must not move the cursor, retitle the window or
 * rewrite what is on the reader's screen. Binary output shows as escapes, never as raw bytes.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/**
 * Prints each `event` message of a follow stream until Ctrl-C (exit 0). The server ending the stream, or
 * the connection dropping once open, means the daemon went away: a failure saying so.
 */
export async function followEvents(open: (onOpen: () => void) => AsyncIterable<SseMessage>, event: string, onData: (data: string) => void): Promise<number> {
  let opened = false;
  try {
    for await (const message of open(() => (opened = true))) {
      if (message.event === event) onData(message.data);
    }
  } catch (error) {
    // Ctrl-C is how one stops following: not a failure.
    if (isAbort(error)) return 0;
    // A connection dropped mid-stream is the server going away, as when it ends the stream.
    if (!opened || !isBerthError(error) || error.code !== 'DAEMON_UNREACHABLE') throw error;
  }
  throw new CliError('the server ended the log stream', 'it stopped or restarted; run the command again once it is back (`berth version` shows whether it answers)');
}
