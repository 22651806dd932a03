/**
 * A tiny leveled logger: one line per event. `text` (humans): `time level [scope] message key=value ...`;
 * `json` (log shippers): one JSON object per line, `{"time","level","scope","msg", ...fields}`.
 */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export const logFormats = ['text', 'json'] as const;
export type LogFormat = (typeof logFormats)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Logs at `level` only the first time `key` is seen by this logger family. */
  once(level: LogLevel, key: string, message: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

export type LogSink = (line: string, level: LogLevel) => void;

const defaultSink: LogSink = (line, level) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    out += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

/** The envelope's own keys; a field with one of these names is prefixed so it cannot forge them. */
const envelopeKeys = new Set(['time', 'level', 'scope', 'msg']);

function jsonLine(
  time: string,
  level: LogLevel,
  scope: string,
  msg: string,
  fields: LogFields | undefined,
): string {
  const entry: Record<string, unknown> = { time, level, scope, msg };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      // Non-finite numbers have no JSON form; keep them readable rather than null.
      const safe = typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
      entry[envelopeKeys.has(key) ? `field_${key}` : key] = safe;
    }
  }
  // JSON.stringify escapes newlines, so a message cannot split the line.
  return JSON.stringify(entry);
}

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = defaultSink,
  scope = 'sfu',
  format: LogFormat = 'text',
  /** Also given every logged line as JSON, whatever `format` is (the log spool, when shipping is on). */
  tap?: LogSink,
): Logger {
  const threshold = logLevels.indexOf(level);
  const seen = new Set<string>();
  const make = (scopeName: string): Logger => {
    const write = (lvl: LogLevel, message: string, fields?: LogFields): void => {
      if (logLevels.indexOf(lvl) < threshold) return;
      const time = new Date().toISOString();
      const json = format === 'json' || tap ? jsonLine(time, lvl, scopeName, message, fields) : '';
      tap?.(json, lvl);
      if (format === 'json') {
        sink(json, lvl);
        return;
      }
      // Messages are single-line by construction: newlines could forge log lines.
      const text = message.replace(/[\r\n]+/g, ' ');
      sink(`${time} ${lvl.padEnd(5)} [${scopeName}] ${text}${formatFields(fields)}`, lvl);
    };
    return {
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      once: (lvl, key, m, f) => {
        if (seen.has(key)) return;
        if (seen.size > 10_000) seen.clear();
        seen.add(key);
        write(lvl, m, f);
      },
      child: (name) => make(`${scopeName}:${name}`),
    };
  };
  return make(scope);
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger('error', () => {});
