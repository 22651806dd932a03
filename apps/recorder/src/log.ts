/**
 * One line per event, like the media node's (MICROSTUDIO_LOG_FORMAT): `text` for people
 * (`time level [recorder:scope] message key=value`), `json` for log shippers (one object per line,
 * `{"time","level","scope","msg", ...fields}`).
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

const levels = { debug: 0, info: 1, warn: 2, error: 3 } as const;
/** The envelope's own keys; a field with one of these names is prefixed so it cannot forge them. */
const envelopeKeys = new Set(['time', 'level', 'scope', 'msg']);

export function createLogger(
  level: keyof typeof levels = 'info',
  scope = 'recorder',
  format: 'text' | 'json' = 'text',
  sink: (line: string, level: 'info' | 'warn' | 'error') => void = (line, lvl) =>
    (lvl === 'info' ? process.stdout : process.stderr).write(`${line}\n`),
): Logger {
  const write = (lvl: 'info' | 'warn' | 'error', message: string, fields?: LogFields): void => {
    if (levels[lvl] < levels[level]) return;
    const time = new Date().toISOString();
    let line: string;
    if (format === 'json') {
      const entry: Record<string, unknown> = { time, level: lvl, scope, msg: message };
      for (const [key, value] of Object.entries(fields ?? {})) {
        if (value === undefined) continue;
        const safe = typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
        entry[envelopeKeys.has(key) ? `field_${key}` : key] = safe;
      }
      line = JSON.stringify(entry);
    } else {
      line = `${time} ${lvl.padEnd(5)} [${scope}] ${message.replace(/[\r\n]+/g, ' ')}`;
      for (const [key, value] of Object.entries(fields ?? {})) {
        if (value === undefined) continue;
        const text = String(value);
        line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
      }
    }
    sink(line, lvl);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (name) => createLogger(level, `${scope}:${name}`, format, sink),
  };
}

export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
