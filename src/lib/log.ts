/**
 * Structured logs: one JSON object per line with a level, a message and fields.
 * Child loggers carry context (app, deployment, release) so every line says what it is about.
 * Never pass env values or tokens as fields: logs are for operators, secrets stay in the store.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export interface LogSink {
  write(line: string): unknown;
}

export function createLogger(options: { sink?: LogSink; level?: Level; fields?: Fields } = {}): Logger {
  const sink = options.sink ?? process.stderr;
  const min = ORDER[options.level ?? 'info'];
  const base = options.fields ?? {};
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    const record: Fields = { t: new Date().toISOString(), level, msg, ...base, ...fields };
    for (const [key, value] of Object.entries(record)) {
      if (value instanceof Error) record[key] = { message: value.message, code: (value as { code?: unknown }).code };
    }
    sink.write(JSON.stringify(record) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ sink, level: options.level, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything: for tests and tools that have nothing to say. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
