import { createSdpResourceHandler } from '../http/sdpResource.ts';
import type { Logger } from '../log.ts';
import type { WhepService } from './WhepService.ts';

/**
 * The WHEP HTTP resource (draft-ietf-wish-whep; the session semantics of WHIP, RFC 9725).
 * Answers the paths it owns and returns true; false for others.
 * POST /whep/:room[?source=:sourceId] (recvonly offer) → 201 + answer; DELETE /whep/:room/:session;
 * PATCH → 405 (no trickle ICE or ICE restart: the offer carries all candidates); OPTIONS → CORS.
 */
export function createWhepHandler(whep: WhepService, log: Logger) {
  return createSdpResourceHandler(
    {
      kind: 'whep',
      exposeHeaders: 'Location, ETag, Accept-Post, Allow, Retry-After',
      tokenHint: 'viewer invite',
      queryParam: 'source',
      create: ({ roomId, token, sdp, param }) => whep.play({ roomId, token, sdp, sourceId: param }),
      has: (roomId, sessionId) => whep.session(roomId, sessionId) !== undefined,
      authorize: (token, roomId, sessionId) => whep.authorize(token, roomId, sessionId),
      end: (roomId, sessionId) => whep.end(roomId, sessionId),
    },
    log,
  );
}
