import { MAX_RECORDER_ERRORS, type RecorderStatus } from '@microstudio/protocol';

export type RecorderError = RecorderStatus['errors'][number];

/**
 * The errors a director should see, newest first, at most MAX_RECORDER_ERRORS. The same message
 * repeated (a disk that stays full) is one entry with its latest time, not a flood.
 */
export class RecentErrors {
  #errors: RecorderError[] = [];

  note(message: string, sourceId?: string): void {
    const text = message.slice(0, 500);
    this.#errors = this.#errors.filter((e) => !(e.message === text && e.sourceId === sourceId));
    this.#errors.unshift({ at: Date.now(), message: text, ...(sourceId ? { sourceId } : {}) });
    this.#errors.length = Math.min(this.#errors.length, MAX_RECORDER_ERRORS);
  }

  list(): RecorderError[] {
    return this.#errors.map((e) => ({ ...e }));
  }
}
