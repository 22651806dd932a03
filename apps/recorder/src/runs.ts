import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A track directory holds one or more runs: each start of a TrackRecorder (a new media-node
 * recording of the same producer, e.g. after a restart) is a run with its own ffmpeg, SDP,
 * segment list and state file, and continues the segment numbering of the runs before it, so a
 * restart never overwrites a segment.
 *
 *   run-<runId>.json       RunState (rewritten atomically)
 *   run-<runId>.sdp        ffmpeg's input
 *   run-<runId>.csv        ffmpeg's segment list: one line per closed segment
 *   000000.webm(.json)     segments (and sidecars), numbered across runs
 *   000007.webm.lost       an open segment that could not be recovered after a crash
 */
export interface RunState {
  version: 1;
  runId: string;
  roomId: string;
  sourceId: string;
  kind: 'audio' | 'video';
  producerId: string;
  recordingId: string;
  codec: string;
  extension: 'webm' | 'mkv';
  format: 'webm' | 'matroska';
  /** Number of this run's first segment file. */
  firstIndex: number;
  ffmpegPid: number | null;
  /** ffmpeg's RTP port on 127.0.0.1 (a BYE there ends an orphaned ffmpeg cleanly). */
  ffmpegRtpPort: number;
  ssrc: number;
  startedAtMs: number;
  /** Show clock (Unix ms) of the run's media time 0; null until the first packet. */
  originMs: number | null;
  /**
   * Media time (seconds since the first packet) of the newest packet relayed to ffmpeg, kept
   * within a second: where an open segment lost at a crash ends.
   */
  mediaSeconds?: number;
  /** Every segment of the run is closed and listed (clean stop, or recovered after a crash). */
  closed: boolean;
}

export const SEGMENT_FILE = /^(\d{6,})\.(webm|mkv)$/;

export function runFiles(dir: string, runId: string): { state: string; sdp: string; list: string } {
  return {
    state: join(dir, `run-${runId}.json`),
    sdp: join(dir, `run-${runId}.sdp`),
    list: join(dir, `run-${runId}.csv`),
  };
}

/** Sortable, unique enough per track directory (one run starts at a time). */
export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:.]/g, '');
}

/** The number after the highest segment (recovered, lost or open) already in `dir`. */
export async function nextSegmentIndex(dir: string): Promise<number> {
  let next = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = /^(\d{6,})\.(webm|mkv)/.exec(name);
    if (match) next = Math.max(next, Number(match[1]) + 1);
  }
  return next;
}

export async function writeRunState(path: string, state: RunState): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, path);
}

export async function readRunStates(dir: string): Promise<RunState[]> {
  const states: RunState[] = [];
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (!/^run-.+\.json$/.test(name)) continue;
    try {
      const state = JSON.parse(await readFile(join(dir, name), 'utf8')) as RunState;
      if (state.version === 1) states.push(state);
    } catch {
      // a state file torn by a crash before its first rename cannot exist (tmp + rename); skip junk
    }
  }
  return states.sort((a, b) => a.firstIndex - b.firstIndex || a.runId.localeCompare(b.runId));
}
