import {
  createSdpResourceHandler,
  NO_BROWSER_ORIGINS,
  type SdpResourceOptions,
} from '../http/sdpResource.ts';
import type { Logger } from '../log.ts';
import type { WhipService } from './WhipService.ts';

/**
 * The WHIP HTTP resource (RFC 9725). Answers the paths it owns and returns true; false for others.
 * POST /whip/:room[?name=…] (offer) → 201 + answer; PATCH /whip/:room/:session (trickle ICE → 204,
 * ICE restart → 200); DELETE /whip/:room/:session; GET → 204; OPTIONS → CORS preflight.
 */
export function createWhipHandler(
  whip: WhipService,
  log: Logger,
  options: SdpResourceOptions = NO_BROWSER_ORIGINS,
) {
  return createSdpResourceHandler(
    {
      kind: 'whip',
      exposeHeaders: 'Location, ETag, Accept-Post, Accept-Patch, Allow',
      tokenHint: 'camera invite',
      queryParam: 'name',
      create: ({ roomId, token, sdp, param }) => whip.publish({ roomId, token, sdp, name: param }),
      has: (roomId, sessionId) => whip.session(roomId, sessionId) !== undefined,
      ice: (roomId, sessionId) => whip.session(roomId, sessionId)?.ice,
      authorize: (token, roomId, sessionId) => whip.authorize(token, roomId, sessionId),
      end: (roomId, sessionId) => whip.end(roomId, sessionId),
    },
    log,
    options,
  );
}
