/**
 * Protocol-level limits. Every limit an operator may tune is a MICROSTUDIO_* variable of
 * @microstudio/config whose default (and, where the wire format bounds it, ceiling) is defined
 * here, once: the node enforces the configured value, the schemas the ceiling.
 */

/** Default of MICROSTUDIO_MAX_MESSAGE_BYTES: the largest serialized payload (JSON bytes) a node
 * accepts for one message. RTP capabilities of a browser are ~10–20 KiB; 256 KiB leaves headroom
 * while refusing abuse early. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** MICROSTUDIO_MAX_MESSAGE_BYTES may not go below this: a browser's join (its RTP capabilities)
 * must fit with room to spare. */
export const MIN_MESSAGE_BYTES_SETTING = 64 * 1024;
/** Nor above this: socket.io buffers a whole message (transportMaxBytes of it) per connection. */
export const MAX_MESSAGE_BYTES_SETTING = 16 * 1024 * 1024;

/** socket.io's own transport cap, above the message limit so that an oversize message reaches the
 * handler and gets a MESSAGE_TOO_LARGE acknowledgement instead of a silent disconnect. */
export const transportMaxBytes = (maxMessageBytes: number): number => 4 * maxMessageBytes;
/** The transport cap for the default message limit. */
export const TRANSPORT_MAX_BYTES = transportMaxBytes(MAX_MESSAGE_BYTES);

/** How long a client waits for an acknowledgement. */
export const REQUEST_TIMEOUT_MS = 10_000;

export const MAX_DISPLAY_NAME_LENGTH = 64;

/** An invite link lives at most a week; a show's crew gets new ones for the next show. */
export const MAX_INVITE_TTL_SECONDS = 7 * 24 * 3600;
/** Default of MICROSTUDIO_MAX_INVITE_USES: the largest use count (devices) one invite may carry. */
export const MAX_INVITE_USES = 1000;
/** The most uses any invite can carry, whatever is configured: the bound of invite:create's
 * schema, of the token's `uses` claim and of MICROSTUDIO_MAX_INVITE_USES. */
export const INVITE_USES_CEILING = 10_000;
export const MAX_ID_LENGTH = 128;

/** Default and ceiling of MICROSTUDIO_MAX_SOURCES_PER_ROOM: health reports and recording plans
 * carry at most this many sources. Tally and preview are selected with keys 1–9; a room can hold
 * more sources than that. */
export const MAX_SOURCES_PER_ROOM = 32;

/** Default of MICROSTUDIO_MAX_GUESTS_PER_ROOM: guests a room keeps track of (waiting, admitted,
 * or admitted and reconnecting). */
export const MAX_GUESTS_PER_ROOM = 256;
/** Ceiling of MICROSTUDIO_MAX_GUESTS_PER_ROOM (each is a row of the director's green room). */
export const MAX_GUESTS_SETTING = 10_000;

/** Auto-transition bounds (a fade). */
export const MIN_TRANSITION_MS = 100;
export const MAX_TRANSITION_MS = 5_000;
export const DEFAULT_TRANSITION_MS = 500;

/** A connection sends at most one telemetry:report per this interval; faster ones are RATE_LIMITED. */
export const TELEMETRY_MIN_INTERVAL_MS = 2_000;

/**
 * An edge's round-trip time to its site as it announces it in the fabric (GET /fabric/nodes, the
 * studio's /api/fabric): ms, measured on the node channel's `node:ping` probes. A probe times out
 * long before this bound, which only refuses nonsense.
 */
export const MAX_UPLINK_RTT_MS = 60_000;
