import type { ProgramState, Transition } from '@microstudio/protocol';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';

/** Time source and timer, injectable so the bus can be tested without waiting. */
export interface BusClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: BusClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ProgramBusOptions {
  /** Whether a source id may be put on preview (a currently connected camera). */
  isSource: (sourceId: string) => boolean;
  /** Fade duration when program:auto omits one. */
  defaultTransitionMs: number;
  clock?: BusClock;
}

export type ProgramBusEvents = {
  /** Every change, with the new state (revision already increased). */
  change: [ProgramState];
};

/**
 * The program/preview bus of one room: a pure state machine with a revision counter.
 *
 * - preview(id): puts a known source on preview.
 * - cut(): swaps preview and program at once.
 * - auto(ms): fades preview into program; after `ms` the swap is committed.
 * - A cut or an auto during a fade takes the fade home at once: its target goes to program
 *   now (as on a vision mixer, where pressing CUT mid-transition finishes it), and nothing
 *   else happens — a director who hits a key twice does not bounce back to the old source.
 *
 * Source ids stay on the bus when their source leaves: a camera may reconnect with the same id.
 */
export class ProgramBus extends SafeEmitter<ProgramBusEvents> {
  readonly #isSource: (sourceId: string) => boolean;
  readonly #defaultTransitionMs: number;
  readonly #clock: BusClock;
  #program: string | null = null;
  #preview: string | null = null;
  #transition: Transition | null = null;
  #timer: unknown;
  #revision = 0;
  #closed = false;

  constructor(options: ProgramBusOptions) {
    super();
    this.#isSource = options.isSource;
    this.#defaultTransitionMs = options.defaultTransitionMs;
    this.#clock = options.clock ?? realClock;
  }

  get state(): ProgramState {
    return {
      programSourceId: this.#program,
      previewSourceId: this.#preview,
      transition: this.#transition ? { ...this.#transition } : null,
      revision: this.#revision,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  preview(sourceId: string): ProgramState {
    if (!this.#isSource(sourceId)) throw new NotFoundError('source', sourceId);
    this.#preview = sourceId;
    return this.#changed();
  }

  cut(): ProgramState {
    if (this.#transition !== null) {
      this.#completeFade();
      return this.#changed();
    }
    // Validate before touching state: a refused cut changes nothing.
    if (this.#preview === null) throw new BadRequestError('nothing on preview to cut to');
    [this.#program, this.#preview] = [this.#preview, this.#program];
    return this.#changed();
  }

  auto(durationMs: number = this.#defaultTransitionMs): ProgramState {
    if (this.#transition !== null) {
      this.#completeFade();
      return this.#changed();
    }
    // Validate before touching state: a refused auto changes nothing.
    const target = this.#preview;
    if (target === null) throw new BadRequestError('nothing on preview to transition to');
    this.#transition = {
      kind: 'fade',
      fromSourceId: this.#program,
      toSourceId: target,
      durationMs,
      startedAt: this.#clock.now(),
    };
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#completeFade();
      this.#changed();
    }, durationMs);
    return this.#changed();
  }

  /**
   * An edge's bus follows its site's: the site's state is taken whole (the site validated it),
   * revision included, so viewers at the site and at every edge order updates alike. The site
   * ends its fades with a new state, so no timer runs here.
   */
  adopt(state: ProgramState): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#program = state.programSourceId;
    this.#preview = state.previewSourceId;
    this.#transition = state.transition ? { ...state.transition } : null;
    this.#revision = state.revision;
    this.safeEmit('change', this.state);
  }

  /**
   * A source left for good (a guest removed from the show): it leaves program and preview; a fade
   * involving it is committed first. Returns whether the bus changed.
   */
  forget(sourceId: string): boolean {
    if (this.#closed) return false;
    const fade = this.#transition;
    if (fade !== null && (fade.toSourceId === sourceId || fade.fromSourceId === sourceId))
      this.#completeFade();
    let changed = fade !== this.#transition;
    if (this.#program === sourceId) {
      this.#program = null;
      changed = true;
    }
    if (this.#preview === sourceId) {
      this.#preview = null;
      changed = true;
    }
    if (changed) this.#changed();
    return changed;
  }

  /** Stops the fade timer. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.removeAllListeners();
  }

  /** Commits a running fade: its target becomes program, the old program goes to preview. */
  #completeFade(): void {
    const fade = this.#transition;
    if (fade === null) return;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#transition = null;
    this.#program = fade.toSourceId;
    this.#preview = fade.fromSourceId;
  }

  #changed(): ProgramState {
    this.#revision += 1;
    const state = this.state;
    this.safeEmit('change', state);
    return state;
  }
}
