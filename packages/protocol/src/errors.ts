/**
 * Every error a node can answer with. Clients switch on `code`; `message` is for people.
 * A const object (not a TS enum) so the values exist at run time in every bundler.
 */
export const ErrorCode = {
  /** The payload failed schema validation. */
  BadRequest: 'BAD_REQUEST',
  /** The serialized payload is larger than MAX_MESSAGE_BYTES. */
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  /** The event name is not part of the protocol. */
  UnknownEvent: 'UNKNOWN_EVENT',
  /** No token, or a token that is forged, expired, revoked, used up or for another room. */
  Unauthorized: 'UNAUTHORIZED',
  /** The request needs a joined peer (send room:join first). */
  NotJoined: 'NOT_JOINED',
  /** room:join on a connection that already joined a room. */
  AlreadyJoined: 'ALREADY_JOINED',
  /** The peer's role may not do this (e.g. a viewer publishing, a camera cutting). */
  Forbidden: 'FORBIDDEN',
  /** A guest still in the green room: the director has not admitted it (it may only watch the program). */
  NotAdmitted: 'NOT_ADMITTED',
  /** A transport, producer, consumer or source id that does not exist in this room. */
  NotFound: 'NOT_FOUND',
  /** The router cannot send this producer to a client with these RTP capabilities. */
  CannotConsume: 'CANNOT_CONSUME',
  /** A named limit was reached (peers per room, producers per peer, ...). */
  LimitReached: 'LIMIT_REACHED',
  /** Too many messages per second on this connection. */
  RateLimited: 'RATE_LIMITED',
  /** The room is being re-created after a media worker died: re-join shortly. */
  RoomRecovering: 'ROOM_RECOVERING',
  /** An edge node's link to its site is down (or not yet up): retry shortly; it heals by itself. */
  Unavailable: 'UNAVAILABLE',
  /** Unexpected failure inside the node; the request changed nothing it could roll back. */
  Internal: 'INTERNAL',
  /** No acknowledgement arrived in time (raised by the client, never sent by a node). */
  Timeout: 'TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorCodes: readonly ErrorCode[] = Object.values(ErrorCode);
