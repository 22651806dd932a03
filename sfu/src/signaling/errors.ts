import { ErrorCode, type ProtocolError } from '@microstudio/protocol';
import { errors as mediasoupErrors } from 'mediasoup';
import { InvalidStateError, RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';

const clip = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 200);

/**
 * Maps anything a handler threw to what the client is told. Refusals keep their code; bad
 * arguments found by mediasoup are BAD_REQUEST; a worker that died under the request is ROOM_RECOVERING;
 * everything else is INTERNAL, logged once per distinct message, and never leaks a stack.
 */
export function toProtocolError(error: unknown, log: Logger, context: string): ProtocolError {
  if (error instanceof RefusedError) return { code: error.code, message: error.message };
  if (error instanceof InvalidStateError) return { code: ErrorCode.NotJoined, message: clip(error.message) };
  if (error instanceof mediasoupErrors.UnsupportedError)
    return { code: ErrorCode.BadRequest, message: clip(error.message) };
  if (error instanceof mediasoupErrors.NotFoundError)
    return { code: ErrorCode.NotFound, message: clip(error.message) };
  if (error instanceof mediasoupErrors.WorkerClosedError) {
    return {
      code: ErrorCode.RoomRecovering,
      message: 'the media worker stopped during the request: re-join shortly',
    };
  }
  if (error instanceof TypeError) return { code: ErrorCode.BadRequest, message: clip(error.message) };
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  log.once('error', `internal:${context}:${clip(text)}`, 'request failed unexpectedly', {
    request: context,
    error: clip(text),
  });
  return { code: ErrorCode.Internal, message: 'internal error' };
}
