import {
  createSdpResourceHandler,
  NO_BROWSER_ORIGINS,
  type SdpResourceOptions,
} from '../http/sdpResource.ts';
import type { Logger } from '../log.ts';
import type { WhepService } from './WhepService.ts';

/**
 * The WHEP HTTP resource (draft-ietf-wish-whep; the session semantics of WHIP, RFC 9725).
 * Answers the paths it owns and returns true; false for others.
 * POST /whep/:room[?source=:sourceId] (recvonly offer) → 201 + answer; PATCH /whep/:room/:session
 * (trickle ICE → 204, ICE restart → 200); DELETE /whep/:room/:session; GET → 204; OPTIONS → CORS.
 */
export function createWhepHandler(
  whep: WhepService,
  log: Logger,
  options: SdpResourceOptions = NO_BROWSER_ORIGINS,
) {
  return createSdpResourceHandler(
    {
      kind: 'whep',
      exposeHeaders: 'Location, ETag, Accept-Post, Accept-Patch, Allow, Retry-After',
      tokenHint: 'viewer invite',
      queryParam: 'source',
      create: ({ roomId, token, sdp, param }) => whep.play({ roomId, token, sdp, sourceId: param }),
      has: (roomId, sessionId) => whep.session(roomId, sessionId) !== undefined,
      ice: (roomId, sessionId) => whep.session(roomId, sessionId)?.ice,
      authorize: (token, roomId, sessionId) => whep.authorize(token, roomId, sessionId),
      end: (roomId, sessionId) => whep.end(roomId, sessionId),
    },
    log,
    options,
  );
}
