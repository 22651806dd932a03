import type { Grant } from '@microstudio/auth';
import type { RequestName } from '@microstudio/protocol';

/**
 * The grant each request needs once joined (`null`: any joined peer). Tokens carry a role and a
 * role has grants (@microstudio/auth), so a viewer cannot publish, a camera cannot cut and only a
 * director manages invites. `room:join` and `auth:director` come before joining: the token or
 * the admin secret is their check. Send transports are also checked by the room.
 */
export const requiredGrant: {
  readonly [N in Exclude<RequestName, 'room:join' | 'auth:director'>]: Grant | null;
} = {
  'room:leave': null,
  'invite:create': 'admin',
  'invite:list': 'admin',
  'invite:revoke': 'admin',
  'transport:create': 'subscribe',
  'transport:connect': 'subscribe',
  'transport:restartIce': 'subscribe',
  'producer:create': 'publish',
  'producer:close': 'publish',
  'producer:pause': 'publish',
  'producer:resume': 'publish',
  'consumer:create': 'subscribe',
  'consumer:resume': 'subscribe',
  'consumer:setLayers': 'subscribe',
  'consumer:close': 'subscribe',
  'program:preview': 'program',
  'program:cut': 'program',
  'program:auto': 'program',
  'telemetry:report': null,
  'record:set': 'program',
  // The green room is access control: admitting, rejecting, muting and removing guests is admin.
  'guest:list': 'admin',
  'guest:admit': 'admin',
  'guest:reject': 'admin',
  'guest:mute': 'admin',
  'guest:unmute': 'admin',
  'guest:remove': 'admin',
};
