/** One line per event: `time level [recorder:scope] message key=value`, like the media node's. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

const levels = { debug: 0, info: 1, warn: 2, error: 3 } as const;

export function createLogger(level: keyof typeof levels = 'info', scope = 'recorder'): Logger {
  const write = (lvl: 'info' | 'warn' | 'error', message: string, fields?: LogFields): void => {
    if (levels[lvl] < levels[level]) return;
    let line = `${new Date().toISOString()} ${lvl.padEnd(5)} [${scope}] ${message.replace(/[\r\n]+/g, ' ')}`;
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    (lvl === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (name) => createLogger(level, `${scope}:${name}`),
  };
}

export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
