import { z } from 'zod';
import { MAX_SOURCES_PER_ROOM } from './limits.ts';
import { idSchema } from './media.ts';

/**
 * Recording control: what the director asks the room to record (the plan, kept on the node),
 * what the recorder service reports back (its status, pushed to directors as `recorder:state`),
 * and the program's cut list the recorder writes beside the ISOs.
 */

/** Most tracks one recorder status lists (a source has at most a video and an audio track each). */
export const MAX_RECORDER_TRACKS = 2 * MAX_SOURCES_PER_ROOM;
/** Most recent errors one status carries (older ones are in the recorder's log). */
export const MAX_RECORDER_ERRORS = 10;
/** A recorder status older than this is shown as "not reporting". */
export const RECORDER_STALE_MS = 10_000;
/** Cuts the node keeps per room for the recorder to fetch (a show cuts far fewer). */
export const MAX_CUTS_KEPT = 10_000;

const message = z.string().max(500);

/**
 * Which sources the room records. `all`: every source, present and future, except `exclude`;
 * otherwise only `include`. Kept on the node, so a reloaded control room and a restarted recorder
 * both find it.
 */
export const recordingPlanSchema = z
  .object({
    all: z.boolean(),
    include: z.array(idSchema).max(MAX_SOURCES_PER_ROOM),
    exclude: z.array(idSchema).max(MAX_SOURCES_PER_ROOM),
  })
  .strict();
export type RecordingPlan = z.infer<typeof recordingPlanSchema>;

export const emptyRecordingPlan = (): RecordingPlan => ({ all: false, include: [], exclude: [] });

/** Whether the plan records `sourceId`. */
export function planRecords(plan: RecordingPlan, sourceId: string): boolean {
  return plan.all ? !plan.exclude.includes(sourceId) : plan.include.includes(sourceId);
}

/** One recorded track as the recorder reports it. */
export const recorderTrackSchema = z
  .object({
    sourceId: idSchema,
    kind: z.enum(['audio', 'video']),
    state: z.enum(['starting', 'recording', 'stopping', 'failed']),
    /** Media recorded in this run so far (seconds). */
    seconds: z.number().nonnegative(),
    /** Bytes on disk for this track in this run (finished segments and the open one). */
    bytes: z.number().int().nonnegative(),
    segments: z.number().int().nonnegative(),
    error: message.optional(),
  })
  .strict();
export type RecorderTrack = z.infer<typeof recorderTrackSchema>;

export const recorderStatusSchema = z
  .object({
    /** host:pid of the recorder process. */
    recorderId: z.string().min(1).max(128),
    /** Recorder wall clock (ms since epoch) of the report. */
    at: z.number().nonnegative(),
    disk: z
      .object({
        /** The recordings directory. */
        path: z.string().max(512),
        freeBytes: z.number().nonnegative(),
        totalBytes: z.number().nonnegative(),
        /** Below this free space the control room warns (MICROSTUDIO_RECORDER_DISK_WARN_BYTES). */
        warnBytes: z.number().nonnegative(),
        /** ok; low: below warnBytes; full: below the floor, new segments are refused; error: unusable. */
        state: z.enum(['ok', 'low', 'full', 'error']),
      })
      .strict(),
    uploads: z
      .object({
        /** off: no bucket configured; idle: nothing queued; uploading; failing: retrying after errors. */
        state: z.enum(['off', 'idle', 'uploading', 'failing']),
        bucket: z.string().max(255).nullable(),
        /** Files queued (journaled, not yet confirmed in the bucket). */
        pending: z.number().int().nonnegative(),
        pendingBytes: z.number().nonnegative(),
        /** Files confirmed (HeadObject size and ETag) since the recorder started. */
        confirmed: z.number().int().nonnegative(),
        lastError: message.nullable(),
      })
      .strict(),
    tracks: z.array(recorderTrackSchema).max(MAX_RECORDER_TRACKS),
    /** Newest first: recording, disk and upload errors the director should see. */
    errors: z
      .array(z.object({ at: z.number().nonnegative(), message, sourceId: idSchema.optional() }).strict())
      .max(MAX_RECORDER_ERRORS),
  })
  .strict();
export type RecorderStatus = z.infer<typeof recorderStatusSchema>;

/** Directors only: the plan and the recorder's latest status (on join, on change, on every report). */
export const recorderStateSchema = z
  .object({
    roomId: idSchema,
    plan: recordingPlanSchema,
    /** Null until a recorder reported for this room. */
    recorder: recorderStatusSchema.nullable(),
    /** Node wall clock (ms since epoch) when that status arrived. */
    reportedAt: z.number().nonnegative().nullable(),
  })
  .strict();
export type RecorderState = z.infer<typeof recorderStateSchema>;

/**
 * One line of a show's cut list (`<recordings>/<room>/cuts.jsonl`): from `atMs` (node wall clock,
 * the show clock the ISOs' sidecars use on a one-box studio) the program shows `sourceId`
 * (null: nothing on program). A fade is listed where it starts, with its duration.
 */
export const cutEntrySchema = z
  .object({
    seq: z.number().int().nonnegative(),
    atMs: z.number().nonnegative(),
    sourceId: idSchema.nullable(),
    kind: z.enum(['cut', 'fade']),
    durationMs: z.number().int().nonnegative(),
  })
  .strict();
export type CutEntry = z.infer<typeof cutEntrySchema>;
