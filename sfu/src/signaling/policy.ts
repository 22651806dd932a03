import type { RequestName, Role } from '@microstudio/protocol';

const everyone: readonly Role[] = ['camera', 'director', 'viewer'];

/**
 * Which roles may send which request once joined. A camera publishes (and may receive, e.g. a
 * program return); a director drives the bus and receives; a viewer only receives.
 * `room:join` is the only request allowed before joining. Send transports are checked by the
 * room (a viewer may create a recv transport only).
 */
export const allowedRoles: { readonly [N in RequestName]: readonly Role[] } = {
  'room:join': everyone,
  'room:leave': everyone,
  'transport:create': everyone,
  'transport:connect': everyone,
  'transport:restartIce': everyone,
  'producer:create': ['camera'],
  'producer:close': ['camera'],
  'producer:pause': ['camera'],
  'producer:resume': ['camera'],
  'consumer:create': everyone,
  'consumer:resume': everyone,
  'consumer:setLayers': everyone,
  'consumer:close': everyone,
  'program:preview': ['director'],
  'program:cut': ['director'],
  'program:auto': ['director'],
};
