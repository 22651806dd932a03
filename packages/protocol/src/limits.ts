/**
 * Protocol-level limits. Node-side limits that an operator may tune (peers per room, message
 * rate, ...) live in @microstudio/config; these are the ones both ends must agree on.
 */

/** Largest serialized payload a node accepts for one message (JSON bytes). RTP capabilities of a
 * browser are ~10–20 KiB; 256 KiB leaves headroom while refusing abuse early. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** socket.io's own transport cap, above MAX_MESSAGE_BYTES so that an oversize message reaches the
 * handler and gets a MESSAGE_TOO_LARGE acknowledgement instead of a silent disconnect. */
export const TRANSPORT_MAX_BYTES = 4 * MAX_MESSAGE_BYTES;

/** How long a client waits for an acknowledgement. */
export const REQUEST_TIMEOUT_MS = 10_000;

export const MAX_DISPLAY_NAME_LENGTH = 64;

/** An invite link lives at most a week; a show's crew gets new ones for the next show. */
export const MAX_INVITE_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_INVITE_USES = 1000;
export const MAX_ID_LENGTH = 128;

/** Tally and preview are selected with keys 1–9; a room can hold more sources than that. */
export const MAX_SOURCES_PER_ROOM = 32;

/** Guests a room keeps track of (waiting, admitted, or admitted and reconnecting). */
export const MAX_GUESTS_PER_ROOM = 256;

/** Auto-transition bounds (a fade). */
export const MIN_TRANSITION_MS = 100;
export const MAX_TRANSITION_MS = 5_000;
export const DEFAULT_TRANSITION_MS = 500;

/** A connection sends at most one telemetry:report per this interval; faster ones are RATE_LIMITED. */
export const TELEMETRY_MIN_INTERVAL_MS = 2_000;
