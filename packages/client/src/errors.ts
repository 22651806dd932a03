import type { ErrorCode, ProtocolError } from '@microstudio/protocol';

/** A request the node (or the client's own timeout) answered with an error. */
export class RequestError extends Error {
  override name = 'RequestError';
  readonly code: ErrorCode;
  readonly request: string;

  constructor(request: string, error: ProtocolError) {
    super(`${request} failed: ${error.code}: ${error.message}`);
    this.code = error.code;
    this.request = request;
  }
}

/** A method was called on a session that was closed. */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}
