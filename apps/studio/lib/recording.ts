import {
  ErrorCode,
  planRecords,
  RECORDER_STALE_MS,
  type RecorderStatus,
  type RecorderTrack,
  type RecordingPlan,
} from '@microstudio/protocol';
import { errorText } from './errorText.ts';
import type { HealthCell, HealthLevel } from './health.ts';

/**
 * The Record panel's and the Health panel's recorder figures, in words with a level (issues
 * "Recorder" and "Telemetry"). Pure: the controller feeds it the node's `recorder:state`.
 */

/** Thresholds of the recorder line (the disk's own low/full states come from the recorder). */
export const RECORDER_THRESHOLDS = {
  /** More files than this waiting for the bucket: uploads are falling behind the recording. */
  uploadBacklogWarnFiles: 30,
} as const;

/** "00:42", "12:05"; from an hour on "1:02:05". Negative or non-finite reads 00:00. */
export function formatDuration(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Decimal units, as disks are sold: "0 B", "950 B", "4.1 MB", "12.3 GB", "120 GB". */
export function formatBytes(bytes: number): string {
  let value = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // One decimal below 100 (rounding up to 100.0 shows as "100").
  const text = value < 99.95 ? value.toFixed(1) : String(Math.round(value));
  return `${text} ${UNITS[unit]}`;
}

/**
 * Whether the recorder is "not reporting": no status yet, or its last report is older than
 * RECORDER_STALE_MS at `nodeNow` (the media node's clock, as `reportedAt` is).
 */
export function recorderStale(reportedAt: number | null, recorder: RecorderStatus | null, nodeNow: number) {
  if (recorder === null || reportedAt === null) return true;
  return nodeNow - reportedAt > RECORDER_STALE_MS;
}

/** Whether the plan records anything at all (Record all, or at least one source). */
export function planRecordsAnything(plan: RecordingPlan): boolean {
  return plan.all || plan.include.length > 0;
}

/** One source's tracks, summed: the longest track's duration, every track's bytes. */
export interface SourceRecording {
  state: HealthCell;
  /** "01:23", or "—" without tracks. */
  duration: string;
  /** "4.1 MB", or "—" without tracks. */
  size: string;
  seconds: number;
  bytes: number;
}

/**
 * What the recorder does with one source, from its tracks and whether the plan records it.
 * `stale`: the recorder is not reporting, so the figures are its last known ones.
 */
export function sourceRecording(
  tracks: readonly RecorderTrack[],
  planned: boolean,
  present: boolean,
  stale: boolean,
): SourceRecording {
  const seconds = tracks.reduce((max, t) => Math.max(max, t.seconds), 0);
  const bytes = tracks.reduce((sum, t) => sum + t.bytes, 0);
  const figures = tracks.length
    ? { duration: formatDuration(seconds), size: formatBytes(bytes) }
    : { duration: '—', size: '—' };
  return { state: recordingState(tracks, planned, present, stale), ...figures, seconds, bytes };
}

function recordingState(
  tracks: readonly RecorderTrack[],
  planned: boolean,
  present: boolean,
  stale: boolean,
): HealthCell {
  if (stale) {
    if (planned && present) return { text: 'unknown · recorder not reporting', level: 'bad' };
    return { text: planned ? 'not in the room' : 'not recording', level: 'unknown' };
  }
  const failed = tracks.find((t) => t.state === 'failed');
  if (failed) {
    const what = tracks.length > 1 ? `${failed.kind} failed` : 'failed';
    return { text: failed.error ? `${what}: ${failed.error}` : what, level: 'bad' };
  }
  if (tracks.length > 0 && tracks.every((t) => t.state === 'recording'))
    return { text: 'recording', level: 'good' };
  if (tracks.some((t) => t.state === 'starting')) return { text: 'starting', level: 'warn' };
  if (tracks.some((t) => t.state === 'stopping')) return { text: 'stopping', level: 'unknown' };
  if (tracks.some((t) => t.state === 'recording')) return { text: 'recording', level: 'good' };
  if (!present)
    return planned
      ? { text: 'not in the room · records when it returns', level: 'unknown' }
      : { text: 'not in the room', level: 'unknown' };
  return planned
    ? { text: 'waiting for the recorder', level: 'warn' }
    : { text: 'not recording', level: 'unknown' };
}

/** One row of the Record panel. */
export interface RecordRow extends SourceRecording {
  sourceId: string;
  name: string;
  /** The source is in the room now (a planned source that left keeps its row). */
  present: boolean;
  /** The plan records it (the toggle's aria-pressed). */
  planned: boolean;
}

/**
 * The Record panel's rows: every source in the room (in the room's order), then sources that are
 * not in the room but the plan names or the recorder still reports (a camera that left).
 * `names`: the room's sources, id → name, in order; `seenNames`: every name seen this session.
 */
export function recordRows(options: {
  names: Readonly<Record<string, string>>;
  seenNames: Readonly<Record<string, string>>;
  plan: RecordingPlan;
  recorder: RecorderStatus | null;
  stale: boolean;
}): RecordRow[] {
  const { names, seenNames, plan, recorder, stale } = options;
  const tracks = recorder?.tracks ?? [];
  const ids = [...Object.keys(names)];
  const listed = plan.all ? plan.exclude : plan.include;
  for (const id of [...listed, ...tracks.map((t) => t.sourceId)]) if (!ids.includes(id)) ids.push(id);
  return ids.map((sourceId) => {
    const present = Object.hasOwn(names, sourceId);
    const planned = planRecords(plan, sourceId);
    const own = tracks.filter((t) => t.sourceId === sourceId);
    return {
      sourceId,
      name: names[sourceId] ?? seenNames[sourceId] ?? sourceId,
      present,
      planned,
      ...sourceRecording(own, planned, present, stale),
    };
  });
}

/** The recordings disk: free space with a warning when low or full. */
export function diskCell(disk: RecorderStatus['disk']): HealthCell {
  const free = formatBytes(disk.freeBytes);
  switch (disk.state) {
    case 'ok':
      return { text: `Disk: ${free} free of ${formatBytes(disk.totalBytes)}`, level: 'good' };
    case 'low':
      return { text: `Disk low: ${free} free`, level: 'warn' };
    case 'full':
      return { text: `Disk full: ${free} free · new segments are refused`, level: 'bad' };
    case 'error':
      return { text: `Disk error: ${disk.path || 'the recordings directory'} is unusable`, level: 'bad' };
  }
}

/** The upload queue: state, files and bytes waiting, files confirmed in the bucket. */
export function uploadCell(uploads: RecorderStatus['uploads']): HealthCell {
  const queued = `${uploads.pending} ${uploads.pending === 1 ? 'file' : 'files'} queued (${formatBytes(uploads.pendingBytes)})`;
  const confirmed = `${uploads.confirmed} confirmed`;
  const bucket = uploads.bucket ? ` to ${uploads.bucket}` : '';
  switch (uploads.state) {
    case 'off':
      return {
        text:
          uploads.pending > 0
            ? `Uploads off (no bucket) · ${queued} on disk`
            : 'Uploads off (no bucket): segments stay on disk',
        level: 'unknown',
      };
    case 'idle':
      return { text: `Uploads${bucket}: up to date · ${confirmed}`, level: 'good' };
    case 'uploading': {
      const behind = uploads.pending > RECORDER_THRESHOLDS.uploadBacklogWarnFiles;
      return {
        text: `Uploading${bucket}: ${queued} · ${confirmed}${behind ? ' · falling behind' : ''}`,
        level: behind ? 'warn' : 'good',
      };
    }
    case 'failing':
      return { text: `Uploads${bucket} failing: ${queued} · ${confirmed}`, level: 'bad' };
  }
}

/** The Health panel's recorder line: what it records, its disk and its upload queue. */
export interface RecorderSummary {
  recorder: HealthCell;
  disk: HealthCell | null;
  uploads: HealthCell | null;
}

/**
 * The recorder at a glance. `plannedPresent`: how many sources in the room the plan records (a
 * plan with nothing to record is idle, not a fault).
 */
export function recorderSummary(options: {
  recorder: RecorderStatus | null;
  stale: boolean;
  plan: RecordingPlan;
  plannedPresent: number;
}): RecorderSummary {
  const { recorder, stale, plan, plannedPresent } = options;
  if (recorder === null || stale) {
    // Only a fault when something should be recording.
    const level: HealthLevel = planRecordsAnything(plan) ? 'bad' : 'unknown';
    return { recorder: { text: 'not reporting', level }, disk: null, uploads: null };
  }
  const tracks = recorder.tracks;
  const count = (state: RecorderTrack['state']) => tracks.filter((t) => t.state === state).length;
  const n = (k: number) => `${k} ${k === 1 ? 'track' : 'tracks'}`;
  const failed = count('failed');
  const recording = count('recording');
  const starting = count('starting');
  let cell: HealthCell;
  if (failed > 0)
    cell = {
      text: `${n(failed)} failed${recording > 0 ? ` · recording ${n(recording)}` : ''}`,
      level: 'bad',
    };
  else if (starting > 0)
    cell = {
      text: `starting ${n(starting)}${recording > 0 ? ` · recording ${n(recording)}` : ''}`,
      level: 'warn',
    };
  else if (recording > 0) cell = { text: `recording ${n(recording)}`, level: 'good' };
  else if (plannedPresent > 0) cell = { text: 'idle · waiting to record', level: 'warn' };
  else cell = { text: 'idle', level: 'good' };
  return { recorder: cell, disk: diskCell(recorder.disk), uploads: uploadCell(recorder.uploads) };
}

/** "14:03:27" in the page's time zone (or `timeZone`), for the recorder's error list. */
export function clockTime(at: number, timeZone?: string): string {
  return new Date(at).toLocaleTimeString('en-GB', { hour12: false, ...(timeZone ? { timeZone } : {}) });
}

/** One line of the recorder's error list, newest first as the recorder sends them. */
export interface RecorderErrorLine {
  key: string;
  time: string;
  text: string;
}

export function recorderErrorLines(
  errors: RecorderStatus['errors'],
  names: Readonly<Record<string, string>>,
  timeZone?: string,
): RecorderErrorLine[] {
  return errors.map((e, i) => ({
    key: `${e.at}-${i}`,
    time: clockTime(e.at, timeZone),
    text: e.sourceId ? `${names[e.sourceId] ?? e.sourceId}: ${e.message}` : e.message,
  }));
}

/**
 * A failed record:set in words for the panel. `target`: the source's name, or undefined for
 * Record all; `error`: a RequestError (code and message) or anything thrown.
 */
export function recordErrorText(error: unknown, target: string | undefined, on: boolean): string {
  const what =
    target === undefined
      ? on
        ? 'Record all'
        : 'Stop recording all'
      : `${on ? 'Record' : 'Stop recording'} ${target}`;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  switch (code) {
    case ErrorCode.NotFound:
      return `${what} failed: ${target ?? 'that source'} is not in the room (NOT_FOUND). The plan is unchanged.`;
    case ErrorCode.Forbidden:
      return `${what} failed: this node or this control room may not record (FORBIDDEN).`;
    case ErrorCode.Timeout:
      return `${what} failed: the media node did not answer (TIMEOUT). The plan may be unchanged.`;
    default:
      return `${what} failed: ${errorText(error)}`;
  }
}
