import { createSdpResourceHandler } from '../http/sdpResource.ts';
import type { Logger } from '../log.ts';
import type { WhipService } from './WhipService.ts';

/**
 * The WHIP HTTP resource (RFC 9725). Answers the paths it owns and returns true; false for others.
 * POST /whip/:room[?name=…] (offer) → 201 + answer; DELETE /whip/:room/:session; PATCH → 405 (no
 * trickle ICE or ICE restart: the offer carries all candidates); OPTIONS → CORS preflight.
 */
export function createWhipHandler(whip: WhipService, log: Logger) {
  return createSdpResourceHandler(
    {
      kind: 'whip',
      exposeHeaders: 'Location, ETag, Accept-Post, Allow',
      tokenHint: 'camera invite',
      queryParam: 'name',
      create: ({ roomId, token, sdp, param }) => whip.publish({ roomId, token, sdp, name: param }),
      has: (roomId, sessionId) => whip.session(roomId, sessionId) !== undefined,
      authorize: (token, roomId, sessionId) => whip.authorize(token, roomId, sessionId),
      end: (roomId, sessionId) => whip.end(roomId, sessionId),
    },
    log,
  );
}
