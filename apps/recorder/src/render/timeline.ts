import type { CutEntry } from '@microstudio/protocol';
import { RenderError } from './errors.ts';

/**
 * Plans the program from the cut list and the recorded segments: which frames of which segment
 * file go where, and which program frames have nothing to show. Pure (no files, no ffmpeg), so
 * every rule below is unit-tested with synthetic inputs.
 *
 * Everything is counted in program frames at a fixed rate: program frame k shows the show clock
 * at `startMs + k / fps`. A cut at `atMs` starts at frame round((atMs − startMs)·fps/1000), so
 * every cut lands within half a frame of its time, and a piece is a whole number of frames, so
 * no error adds up over a long show.
 *
 * Fades: the cut list gives a fade where it starts and its duration. It is rendered as on the
 * control room's and viewers' screens: a linear cross-fade, the outgoing picture at 100 % at the
 * fade's first frame and the incoming one at 100 % from `atMs + durationMs`. The live bus ends a
 * fade early when the director cuts or fades again before it finished (ProgramBus: the fade is
 * taken home), and that next change is the next line of the list: the fade is cut off there.
 */

/** One recorded segment of one source and kind, placed on the show clock (from its sidecar). */
export interface IndexedSegment {
  /** The segment file (path as it should be opened). */
  file: string;
  /** Show clock (Unix ms) of its first frame. */
  startMs: number;
  /** Show clock where it ends (start + duration; of a lost one, where its media stopped). */
  endMs: number;
  /** Set when the segment could not be recovered after a crash: why. It has no media. */
  lost?: string;
}

/** Segments per source id (any order), of one kind. */
export type SegmentIndex = ReadonlyMap<string, readonly IndexedSegment[]>;

/** Frames [inSeconds, outSeconds) of a segment (its first frame is 0 s) at programStartSeconds. */
export interface Piece {
  type: 'piece';
  sourceId: string;
  file: string;
  inSeconds: number;
  outSeconds: number;
  programStartSeconds: number;
  startFrame: number;
  frames: number;
}

/** Program frames with nothing recorded to show: black (and silence). */
export interface Gap {
  type: 'gap';
  sourceId: string | null;
  /** no source: nothing was on program; not recorded: the source has no segment then; lost: its segment was lost in a crash. */
  reason: 'no source' | 'not recorded' | 'lost';
  programStartSeconds: number;
  startFrame: number;
  frames: number;
}

export type Clip = Piece | Gap;

/** One source's pictures (and sound) over a span, as pieces and gaps that exactly tile it. */
export interface Layer {
  sourceId: string | null;
  video: Clip[];
  audio: Clip[];
}

/** Program frames [startFrame, startFrame + frames) showing one layer, or a fade between two. */
export interface Span {
  startFrame: number;
  frames: number;
  /** What is on program; during a fade, the incoming source. */
  layer: Layer;
  /**
   * During a fade: the outgoing source and the whole fade in program frames (it may have started
   * before this span, at a --from inside it, and is cut off where the span ends). Incoming weight
   * at frame f: (f − startFrame) / frames.
   */
  fade?: { from: Layer; startFrame: number; frames: number };
}

export interface Timeline {
  fps: number;
  /** Show clock (Unix ms) of program frame 0. */
  startMs: number;
  /** Show clock where the program ends (its last frame ends here, to within a frame). */
  endMs: number;
  frames: number;
  spans: Span[];
  /** Things a director should know about the result (gaps, a cut list beyond the media). */
  warnings: string[];
}

export interface TimelineInput {
  /** In show-clock order (parseCutList). */
  cuts: readonly CutEntry[];
  video: SegmentIndex;
  /** Audio ISOs: the program's sound follows its picture. Without: silence. */
  audio?: SegmentIndex;
  /** Show clock (Unix ms) to start at; default: the first cut. */
  fromMs?: number;
  /** Show clock (Unix ms) to end at; default: the end of the last program source's media. */
  toMs?: number;
  fps?: number;
}

/**
 * Segments of one source less than this far apart on the show clock are one continuous
 * recording (the next starts where the previous ended, to within the show clock's rounding):
 * the earlier one is stretched over the hole by repeating its last frame, rather than flashing
 * a frame of black.
 */
export const JOIN_FRAMES = 3;

export function planTimeline(input: TimelineInput): Timeline {
  const fps = input.fps ?? 30;
  const cuts = input.cuts;
  const first = cuts[0];
  const last = cuts[cuts.length - 1];
  if (!first || !last) throw new RenderError('the cut list has no cuts: nothing was on program');
  const warnings: string[] = [];
  const startMs = input.fromMs ?? first.atMs;
  const endMs = input.toMs ?? programEnd(last, input.video, warnings);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs))
    throw new RenderError('the program start and end must be times');
  const frameAt = (ms: number): number => Math.round(((ms - startMs) * fps) / 1000);
  const total = frameAt(endMs);
  if (total <= 0)
    throw new RenderError(
      `nothing to render: the program would end (${iso(endMs)}) before it starts (${iso(startMs)})`,
    );
  const clamp = (frame: number): number => Math.min(total, Math.max(0, frame));
  const grid: Grid = { fps, startMs, frameAt };
  const video = coverageOf(input.video, grid);
  const audio = coverageOf(input.audio ?? new Map(), grid);
  const layer = (sourceId: string | null, from: number, to: number): Layer => ({
    sourceId,
    video: clipsOf(sourceId, video, from, to, grid),
    audio: clipsOf(sourceId, audio, from, to, grid),
  });

  const spans: Span[] = [];
  const add = (from: number, to: number, make: (from: number, to: number) => Span): void => {
    if (to > from) spans.push(make(from, to));
  };
  // Before the first cut (a --from earlier than it) nothing was on program.
  add(0, clamp(frameAt(first.atMs)), (a, b) => ({ startFrame: a, frames: b - a, layer: layer(null, a, b) }));
  let onProgram: string | null = null;
  for (const [i, cut] of cuts.entries()) {
    const at = frameAt(cut.atMs);
    const following = cuts[i + 1];
    const next = clamp(following ? frameAt(following.atMs) : total);
    const previous = onProgram;
    onProgram = cut.sourceId;
    const fadeFrames = frameAt(cut.atMs + cut.durationMs) - at;
    if (cut.kind === 'fade' && fadeFrames > 0 && previous !== cut.sourceId) {
      const fadeEnd = Math.min(next, clamp(at + fadeFrames));
      add(clamp(at), fadeEnd, (a, b) => ({
        startFrame: a,
        frames: b - a,
        layer: layer(cut.sourceId, a, b),
        fade: { from: layer(previous, a, b), startFrame: at, frames: fadeFrames },
      }));
      add(fadeEnd, next, (a, b) => ({ startFrame: a, frames: b - a, layer: layer(cut.sourceId, a, b) }));
    } else {
      add(clamp(at), next, (a, b) => ({ startFrame: a, frames: b - a, layer: layer(cut.sourceId, a, b) }));
    }
  }
  warnings.push(...gapWarnings(spans, fps));
  return { fps, startMs, endMs: startMs + (total * 1000) / fps, frames: total, spans, warnings };
}

/** Where the program ends by default: the last program source's last recorded frame. */
function programEnd(last: CutEntry, video: SegmentIndex, warnings: string[]): number {
  const cutEnd = last.atMs + (last.kind === 'fade' ? last.durationMs : 0);
  if (last.sourceId === null) return cutEnd;
  const media = (video.get(last.sourceId) ?? []).filter((s) => !s.lost);
  const mediaEnd = media.reduce((end, s) => Math.max(end, s.endMs), Number.NEGATIVE_INFINITY);
  if (!(mediaEnd > last.atMs)) {
    warnings.push(
      `the last program source ${last.sourceId} has no video after its cut at ${iso(last.atMs)}: the program ends there`,
    );
    return cutEnd;
  }
  return Math.max(cutEnd, mediaEnd);
}

interface Grid {
  fps: number;
  startMs: number;
  frameAt: (ms: number) => number;
}

/** A segment's program frames [from, to), after joining and overlaps are settled. */
interface Covered {
  segment: IndexedSegment;
  from: number;
  to: number;
}

interface Coverage {
  covered: Covered[];
  lost: IndexedSegment[];
}

/**
 * Which program frames each segment of each source covers. Where two overlap (a restarted
 * recording), the later-starting one wins from its first frame; a hole shorter than JOIN_FRAMES
 * is bridged by the segment before it.
 */
function coverageOf(index: SegmentIndex, grid: Grid): Map<string, Coverage> {
  const result = new Map<string, Coverage>();
  for (const [sourceId, segments] of index) {
    const playable = segments.filter((s) => !s.lost).sort((a, b) => a.startMs - b.startMs);
    const covered: Covered[] = [];
    for (const [i, segment] of playable.entries()) {
      const from = grid.frameAt(segment.startMs);
      let to = grid.frameAt(segment.endMs);
      const next = playable[i + 1];
      if (next) {
        const nextFrom = grid.frameAt(next.startMs);
        if (nextFrom < to || nextFrom - to < JOIN_FRAMES) to = nextFrom;
      }
      if (to > from) covered.push({ segment, from, to });
    }
    result.set(sourceId, { covered, lost: segments.filter((s) => s.lost) });
  }
  return result;
}

/** Pieces and gaps that tile program frames [from, to) for one source. */
function clipsOf(
  sourceId: string | null,
  coverage: ReadonlyMap<string, Coverage>,
  from: number,
  to: number,
  grid: Grid,
): Clip[] {
  const seconds = (frame: number): number => round6(frame / grid.fps);
  const gap = (a: number, b: number, reason: Gap['reason']): Gap => ({
    type: 'gap',
    sourceId,
    reason,
    programStartSeconds: seconds(a),
    startFrame: a,
    frames: b - a,
  });
  if (sourceId === null) return [gap(from, to, 'no source')];
  const { covered, lost } = coverage.get(sourceId) ?? { covered: [], lost: [] };
  const msAt = (frame: number): number => grid.startMs + (frame * 1000) / grid.fps;
  const holeReason = (a: number, b: number): Gap['reason'] =>
    lost.some((l) => l.startMs < msAt(b) && l.endMs > msAt(a)) ? 'lost' : 'not recorded';
  const clips: Clip[] = [];
  let at = from;
  for (const c of covered) {
    if (c.to <= at) continue;
    if (c.from >= to) break;
    if (c.from > at) {
      clips.push(gap(at, c.from, holeReason(at, c.from)));
      at = c.from;
    }
    const end = Math.min(c.to, to);
    // Where program frame `at` falls in the segment (never before its first frame: rounding the
    // segment's start to the grid can put it up to half a frame earlier).
    const inSeconds = round6(Math.max(0, (msAt(at) - c.segment.startMs) / 1000));
    clips.push({
      type: 'piece',
      sourceId,
      file: c.segment.file,
      inSeconds,
      outSeconds: round6(inSeconds + (end - at) / grid.fps),
      programStartSeconds: seconds(at),
      startFrame: at,
      frames: end - at,
    });
    at = end;
  }
  if (at < to) clips.push(gap(at, to, holeReason(at, to)));
  return clips;
}

/** Program time ranges of black: on program but not recorded, or lost (not "nothing on program"). */
function gapWarnings(spans: readonly Span[], fps: number): string[] {
  const warnings: string[] = [];
  for (const span of spans)
    for (const clip of span.layer.video)
      if (clip.type === 'gap' && clip.reason !== 'no source')
        warnings.push(
          `${clip.sourceId} ${clip.reason === 'lost' ? 'lost in a crash' : 'not recorded'} at program ${clock(clip.startFrame / fps)}–${clock((clip.startFrame + clip.frames) / fps)}: black`,
        );
  return warnings;
}

function round6(x: number): number {
  return Number(x.toFixed(6));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** Program time as h:mm:ss.mmm (what an editor shows). */
export function clock(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}
