import type { LogFields, Logger } from '../log.ts';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Logs a repeating fabric operation's failures once per outage (a warning) and its recovery once
 * (info), so a store that is down for minutes does not flood the log every beat.
 */
export class OutageLog {
  readonly #logger: Logger;
  readonly #what: string;
  #failingSince: number | undefined;
  #failures = 0;

  constructor(logger: Logger, what: string) {
    this.#logger = logger;
    this.#what = what;
  }

  get failing(): boolean {
    return this.#failingSince !== undefined;
  }

  failed(error: unknown, fields: LogFields = {}): void {
    this.#failures += 1;
    if (this.#failingSince !== undefined) return;
    this.#failingSince = Date.now();
    this.#logger.warn(`${this.#what} failing`, { ...fields, error: messageOf(error) });
  }

  succeeded(fields: LogFields = {}): void {
    if (this.#failingSince === undefined) return;
    this.#logger.info(`${this.#what} recovered`, {
      ...fields,
      failures: this.#failures,
      outageMs: Date.now() - this.#failingSince,
    });
    this.#failingSince = undefined;
    this.#failures = 0;
  }
}
