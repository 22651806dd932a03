import {
  type CutEntry,
  emptyRecordingPlan,
  MAX_CUTS_KEPT,
  type ProgramState,
  planRecords,
  type RecorderState,
  type RecorderStatus,
  type RecordingPlan,
} from '@microstudio/protocol';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Room } from '../rooms/Room.ts';

/**
 * One room's recording desk: the plan the control room sets (which sources to record), the
 * recorder's latest status, and the program's cut list for the recorder to write beside the ISOs.
 * Directors hear every change as `recorder:state`. It lives and dies with its room: a room closed
 * while idle forgets its plan (nobody is there to be recording).
 */
export class RecordingDesk {
  readonly #room: Room;
  readonly #log: Logger;
  #plan: RecordingPlan = emptyRecordingPlan();
  #status: RecorderStatus | null = null;
  #reportedAt: number | null = null;
  #cuts: CutEntry[] = [];
  #nextSeq = 0;
  #lastProgram: string | null = null;
  #lastTransitionStart: number | null = null;
  #closed = false;

  constructor(room: Room, logger: Logger) {
    this.#room = room;
    this.#log = logger;
    const state = room.bus.state;
    this.#lastProgram = state.programSourceId;
    if (state.programSourceId !== null) this.#noteCut(Date.now(), state.programSourceId, 'cut', 0);
    room.bus.on('change', (next) => this.#onProgram(next));
    room.observer.on('newpeer', (peer) => {
      if (peer.role === 'director') peer.sink.notify('recorder:state', this.state());
    });
  }

  get plan(): RecordingPlan {
    return this.#plan;
  }

  get status(): RecorderStatus | null {
    return this.#status;
  }

  get reportedAt(): number | null {
    return this.#reportedAt;
  }

  /** Whether the plan records this source (the recorder asks through the sources route). */
  records(sourceId: string): boolean {
    return planRecords(this.#plan, sourceId);
  }

  state(): RecorderState {
    return { roomId: this.#room.id, plan: this.#plan, recorder: this.#status, reportedAt: this.#reportedAt };
  }

  /**
   * Record (or stop recording) one source, or every source when `sourceId` is undefined. To
   * record one, it must be in the room now: a name that is not there is a mistake worth telling.
   * Not recording one is always allowed (a camera that left is taken out of the plan, so it does
   * not start recording on its return without anyone deciding it).
   */
  set(sourceId: string | undefined, on: boolean): RecordingPlan {
    const plan = this.#plan;
    if (sourceId === undefined) {
      this.#plan = { all: on, include: [], exclude: [] };
    } else {
      if (on && !this.#room.snapshot().sources.some((s) => s.sourceId === sourceId))
        throw new NotFoundError('source', sourceId);
      const without = (list: string[]): string[] => list.filter((id) => id !== sourceId);
      if (plan.all)
        this.#plan = { ...plan, exclude: on ? without(plan.exclude) : [...without(plan.exclude), sourceId] };
      else
        this.#plan = { ...plan, include: on ? [...without(plan.include), sourceId] : without(plan.include) };
    }
    this.#log.info('recording plan', {
      room: this.#room.id,
      all: this.#plan.all,
      include: this.#plan.include.join(',') || undefined,
      exclude: this.#plan.exclude.join(',') || undefined,
    });
    this.#broadcast();
    return this.#plan;
  }

  /** The recorder's report (already validated). */
  report(status: RecorderStatus): void {
    this.#status = status;
    this.#reportedAt = Date.now();
    this.#broadcast();
  }

  /** Cuts after `seq` (exclusive; -1 for all kept), and the sequence number the next one gets. */
  cutsAfter(seq: number): { cuts: CutEntry[]; next: number; oldest: number } {
    const cuts = this.#cuts.filter((c) => c.seq > seq);
    return { cuts, next: this.#nextSeq, oldest: this.#cuts[0]?.seq ?? this.#nextSeq };
  }

  close(): void {
    this.#closed = true;
  }

  #onProgram(state: ProgramState): void {
    if (this.#closed) return;
    const transition = state.transition;
    if (transition && transition.startedAt !== this.#lastTransitionStart) {
      this.#lastTransitionStart = transition.startedAt;
      this.#lastProgram = transition.toSourceId;
      this.#noteCut(transition.startedAt, transition.toSourceId, 'fade', transition.durationMs);
      return;
    }
    if (transition) return;
    this.#lastTransitionStart = null;
    // A fade that completes lands its target on program: already listed where the fade started.
    // One taken home early (a cut mid-fade) ends there: listed as a cut to the same source.
    if (state.programSourceId === this.#lastProgram) {
      const last = this.#cuts[this.#cuts.length - 1];
      const now = Date.now();
      if (
        last?.kind === 'fade' &&
        last.sourceId === state.programSourceId &&
        now < last.atMs + last.durationMs - 20
      )
        this.#noteCut(now, state.programSourceId, 'cut', 0);
      return;
    }
    this.#lastProgram = state.programSourceId;
    this.#noteCut(Date.now(), state.programSourceId, 'cut', 0);
  }

  #noteCut(atMs: number, sourceId: string | null, kind: 'cut' | 'fade', durationMs: number): void {
    this.#cuts.push({ seq: this.#nextSeq, atMs, sourceId, kind, durationMs });
    this.#nextSeq += 1;
    if (this.#cuts.length > MAX_CUTS_KEPT) this.#cuts.splice(0, this.#cuts.length - MAX_CUTS_KEPT);
  }

  #broadcast(): void {
    if (this.#closed) return;
    const state = this.state();
    for (const peer of this.#room.peers())
      if (peer.role === 'director') peer.sink.notify('recorder:state', state);
  }
}

/** The node's desks, one per open room. */
export class RecordingDesks {
  readonly #desks = new Map<string, RecordingDesk>();
  readonly #log: Logger;

  constructor(options: { logger: Logger }) {
    this.#log = options.logger;
  }

  /** Attach a desk to a newly opened room (RoomRegistry observer 'newroom'). */
  attach(room: Room): RecordingDesk {
    const desk = new RecordingDesk(room, this.#log);
    this.#desks.set(room.id, desk);
    room.on('@close', () => {
      desk.close();
      if (this.#desks.get(room.id) === desk) this.#desks.delete(room.id);
    });
    return desk;
  }

  get(roomId: string): RecordingDesk | undefined {
    return this.#desks.get(roomId);
  }

  all(): RecordingDesk[] {
    return [...this.#desks.values()];
  }
}
