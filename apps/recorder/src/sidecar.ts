import { rename, writeFile } from 'node:fs/promises';
import type { RunState } from './runs.ts';

/** Written beside every segment (`<segment>.json`): what it is and when it starts on the show clock. */
export interface SegmentSidecar {
  roomId: string;
  sourceId: string;
  kind: 'audio' | 'video';
  producerId: string;
  recordingId: string;
  runId: string;
  /** The segment file's number (numbering continues across runs of the same track). */
  index: number;
  file: string;
  /**
   * Show clock (the box's system clock, Unix ms) at the segment's first frame: the run's origin
   * (from packet arrivals, see showClock.ts) plus mediaStartSeconds.
   */
  startWallClockMs: number;
  startIso: string;
  durationSeconds: number;
  /** Where the segment starts in its run's media timeline (seconds since the run's first packet). */
  mediaStartSeconds: number;
  codec: string;
  /** The segment was open when the recorder died; it was remuxed (-c copy) to be playable. */
  recovered?: true;
  /**
   * Of a recovered segment: what ffmpeg had received after its last complete write and lost at
   * the crash (show clock, to within a second at the end).
   */
  lostTail?: { startWallClockMs: number; startIso: string; endWallClockMs: number; endIso: string };
}

/** Written (and uploaded) instead, for an open segment that could not be recovered after a crash. */
export interface LostSegmentSidecar {
  roomId: string;
  sourceId: string;
  kind: 'audio' | 'video';
  producerId: string;
  recordingId: string;
  runId: string;
  index: number;
  file: string;
  lost: true;
  reason: string;
  /**
   * The show-clock range the segment covered. End: the newest packet the recorder had passed on
   * (kept within a second), or when the file was last written if that is later.
   */
  startWallClockMs: number;
  startIso: string;
  endWallClockMs: number;
  endIso: string;
}

export function isoOrUnknown(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : 'unknown';
}

export function segmentSidecar(
  run: RunState,
  segment: { file: string; mediaStartSeconds: number; durationSeconds: number },
  originMs: number,
): SegmentSidecar {
  const startWallClockMs = Math.round(originMs + segment.mediaStartSeconds * 1000);
  return {
    roomId: run.roomId,
    sourceId: run.sourceId,
    kind: run.kind,
    producerId: run.producerId,
    recordingId: run.recordingId,
    runId: run.runId,
    index: Number.parseInt(segment.file, 10),
    file: segment.file,
    startWallClockMs,
    startIso: isoOrUnknown(startWallClockMs),
    durationSeconds: Number(segment.durationSeconds.toFixed(6)),
    mediaStartSeconds: Number(segment.mediaStartSeconds.toFixed(6)),
    codec: run.codec,
  };
}

/** Atomically (a crash leaves the old file or the new one, never half of one). */
export async function writeSidecar(segmentPath: string, sidecar: object): Promise<string> {
  const path = `${segmentPath}.json`;
  await writeFile(`${path}.tmp`, `${JSON.stringify(sidecar, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}
