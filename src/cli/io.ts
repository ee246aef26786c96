/**
 * What a command may touch of the outside world, passed in rather than reached for, so commands run the
 * same under tests (string sinks, explicit env) as in a terminal.
 */

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Input extends AsyncIterable<Buffer | string> {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on?(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off?(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  pause?(): unknown;
  resume?(): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Input;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** https://no-color.org: set and not empty disables colour; so do pipes and dumb terminals. */
export function colorEnabled(out: Output, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return out.isTTY === true;
}

/** Live redrawing needs a real terminal that understands cursor movement. */
export function liveEnabled(out: Output, env: NodeJS.ProcessEnv): boolean {
  return out.isTTY === true && env.TERM !== 'dumb' && !env.CI;
}

export interface Style {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function style(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) => (enabled && text !== '' ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Visible width, counting each code point as one column (good enough for the ASCII berth prints). */
export function visibleLength(text: string): number {
  return [...stripAnsi(text)].length;
}

/**
 * Cuts a styled line to `width` visible columns, keeping escape sequences intact and resetting styles
 * when it cuts, so a live display never wraps (wrapping would break the line count it redraws over).
 */
export function truncateAnsi(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let shown = 0;
  let index = 0;
  while (index < text.length && shown < width - 1) {
    const match = text[index] === '\x1b' ? /^\x1b\[[0-9;?]*[A-Za-z]/.exec(text.slice(index)) : null;
    if (match) {
      out += match[0];
      index += match[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(index)!);
    out += char;
    index += char.length;
    shown++;
  }
  return `${out}…${text.includes('\x1b[') ? '\x1b[0m' : ''}`;
}
