import { ErrorCode } from '@microstudio/protocol';

/**
 * A request the node refuses on purpose. The signaling boundary answers `code` and `message`
 * as they are; anything that is not a RefusedError (or a mediasoup argument error) is INTERNAL.
 */
export class RefusedError extends Error {
  override name = 'RefusedError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends RefusedError {
  override name = 'NotFoundError';
  constructor(what: string, id: string) {
    super(ErrorCode.NotFound, `${what} "${id.slice(0, 64)}" not found`);
  }
}

export class LimitReachedError extends RefusedError {
  override name = 'LimitReachedError';
  constructor(limit: string, max: number) {
    super(ErrorCode.LimitReached, `${limit} limit reached (${max})`);
  }
}

export class ForbiddenError extends RefusedError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

export class BadRequestError extends RefusedError {
  override name = 'BadRequestError';
  constructor(message: string) {
    super(ErrorCode.BadRequest, message);
  }
}

export class RoomRecoveringError extends RefusedError {
  override name = 'RoomRecoveringError';
  constructor(roomId: string) {
    super(
      ErrorCode.RoomRecovering,
      `room "${roomId}" is being recovered after a media worker failure: re-join shortly`,
    );
  }
}

/** An operation on an object that is already closed (mirrors mediasoup's InvalidStateError). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** An edge cannot reach its site right now (uplink down, pipe not open yet). */
export class UpstreamUnavailableError extends RefusedError {
  override name = 'UpstreamUnavailableError';
  constructor(message: string) {
    super(ErrorCode.Unavailable, message);
  }
}
