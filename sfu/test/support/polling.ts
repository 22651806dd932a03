import assert from 'node:assert/strict';
import { createLogger, type Logger, type LogLevel } from '../../src/log.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` holds; fails with `what` after a generous deadline (never a timing claim).
 * A check that throws counts as "not yet": a fabric still reconnecting rejects.
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

export interface CapturedLog {
  logger: Logger;
  lines: { level: LogLevel; line: string }[];
  /** Lines at `level` that contain `text`. */
  count(level: LogLevel, text: string): number;
}

/** A debug-level logger that keeps every line it writes, for asserting what was logged. */
export function captureLogger(): CapturedLog {
  const lines: { level: LogLevel; line: string }[] = [];
  return {
    logger: createLogger('debug', (line, level) => lines.push({ level, line })),
    lines,
    count: (level, text) => lines.filter((l) => l.level === level && l.line.includes(text)).length,
  };
}
