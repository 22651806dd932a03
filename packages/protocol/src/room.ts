import { z } from 'zod';
import { MAX_DISPLAY_NAME_LENGTH, MAX_TRANSITION_MS, MIN_TRANSITION_MS } from './limits.ts';
import { idSchema, mediaKindSchema } from './media.ts';

/** Who a peer is in the show. A role decides what its connection may do. */
export const roleSchema = z.enum(['camera', 'director', 'viewer', 'guest']);
export type Role = z.infer<typeof roleSchema>;

export const displayNameSchema = z.string().trim().min(1).max(MAX_DISPLAY_NAME_LENGTH);

/** What a published track is for, so a page can find a source's camera and mic. */
export const trackPurposeSchema = z.enum(['camera', 'mic']);
export type TrackPurpose = z.infer<typeof trackPurposeSchema>;

export const sourceTrackSchema = z.object({
  producerId: idSchema,
  kind: mediaKindSchema,
  purpose: trackPurposeSchema,
  paused: z.boolean(),
});
export type SourceTrack = z.infer<typeof sourceTrackSchema>;

/**
 * A source is one camera peer and what it publishes. Its id is chosen by the client and kept
 * across reconnects and room recovery, so the program bus and tally survive them.
 */
export const sourceSchema = z.object({
  sourceId: idSchema,
  displayName: displayNameSchema,
  tracks: z.array(sourceTrackSchema),
  /** Connection quality as the node sees it: 'good' | 'fair' | 'poor' | 'lost'. */
  quality: z.enum(['good', 'fair', 'poor', 'lost']),
  /** An admitted remote guest rather than a camera (guests hear each other: see mix-minus). */
  guest: z.literal(true).optional(),
});
export type Source = z.infer<typeof sourceSchema>;

export const transitionSchema = z.object({
  kind: z.literal('fade'),
  fromSourceId: idSchema.nullable(),
  toSourceId: idSchema,
  durationMs: z.number().int().min(MIN_TRANSITION_MS).max(MAX_TRANSITION_MS),
  /** Node wall clock (ms since epoch) when the fade started. */
  startedAt: z.number(),
});
export type Transition = z.infer<typeof transitionSchema>;

/** The program/preview bus. Lives on the node: every control room renders this, never its own. */
export const programStateSchema = z.object({
  programSourceId: idSchema.nullable(),
  previewSourceId: idSchema.nullable(),
  transition: transitionSchema.nullable(),
  /** Increases on every change, so a client can drop stale updates. */
  revision: z.number().int().nonnegative(),
});
export type ProgramState = z.infer<typeof programStateSchema>;

export const tallySchema = z.enum(['program', 'preview', 'off']);
export type Tally = z.infer<typeof tallySchema>;

export const roomSnapshotSchema = z.object({
  roomId: idSchema,
  sources: z.array(sourceSchema),
  program: programStateSchema,
  /**
   * Only on an edge node: whether its link to the site is up. While it is down the sources
   * cannot update, and a viewer shows a "back soon" slate over the last frame.
   */
  uplink: z.enum(['up', 'down']).optional(),
});
export type RoomSnapshot = z.infer<typeof roomSnapshotSchema>;

/** Tally of one source, derived from program state (never stored separately, so it cannot drift). */
export function tallyOf(program: ProgramState, sourceId: string): Tally {
  if (program.programSourceId === sourceId) return 'program';
  if (program.transition?.toSourceId === sourceId) return 'program';
  if (program.previewSourceId === sourceId) return 'preview';
  return 'off';
}

/**
 * A remote guest's place in the show. A guest joins `waiting` in the green room (it may only watch
 * the program); the director admits it (it then publishes like a camera and is a source) or
 * rejects it. Its id is its client id, which is also its sourceId once admitted.
 */
export const guestStateSchema = z.enum(['waiting', 'admitted']);
export type GuestState = z.infer<typeof guestStateSchema>;

export const guestSchema = z
  .object({
    guestId: idSchema,
    displayName: displayNameSchema,
    state: guestStateSchema,
    /** The director muted its microphone (its mic producer is paused on the node). */
    muted: z.boolean(),
  })
  .strict();
export type Guest = z.infer<typeof guestSchema>;

/** The director's view of the green room and the admitted guests (connected ones only). */
export const guestListSchema = z.object({ guests: z.array(guestSchema).max(256) }).strict();
export type GuestList = z.infer<typeof guestListSchema>;

/**
 * What a guest is told about itself: waiting, admitted, (un)muted, or that it was rejected or
 * removed (the connection closes right after those two, and the invite does not let it back in).
 */
export const guestStatusSchema = z
  .object({
    state: z.enum(['waiting', 'admitted', 'rejected', 'removed']),
    muted: z.boolean(),
  })
  .strict();
export type GuestStatus = z.infer<typeof guestStatusSchema>;
