/**
 * What a token may do. Requests are authorised by grant, never by role name, so a new role is
 * one line here and nowhere else.
 */

/** Roles of people: a token of one of these joins a room as a peer (signaling, WHIP, WHEP). */
export const peerRoles = ['director', 'camera', 'viewer', 'guest'] as const;
export type PeerRole = (typeof peerRoles)[number];

/**
 * Roles of services: never a peer of a room, only callers of a node's internal interfaces (the
 * recorder API, the node channel). Their tokens may name the room `*` (every room, see ANY_ROOM).
 */
export const serviceRoles = ['recorder', 'node'] as const;
export type ServiceRole = (typeof serviceRoles)[number];

export const tokenRoles = [...peerRoles, ...serviceRoles] as const;
export type TokenRole = (typeof tokenRoles)[number];

/** The room claim of a service token valid for every room (a peer token never is). */
export const ANY_ROOM = '*';

export const grants = [
  /** publish tracks (send transport, producers) */
  'publish',
  /** receive tracks (recv transport, consumers) */
  'subscribe',
  /** drive the program/preview bus */
  'program',
  /** create, list and revoke invites; admit, reject, mute and remove guests */
  'admin',
  /** recorder API: read a room's sources and its recording plan */
  'sources:read',
  /** recorder API: consume producers over plain transports (start, resume, keyframe, stop) */
  'record',
  /** recorder API: report the recorder's status for the control room */
  'status:report',
  /** recorder API: read the program's cut list */
  'cuts:read',
  /** node channel: open mirror pipes of a site's rooms (an edge) */
  'mirror',
] as const;
export type Grant = (typeof grants)[number];

export const grantsOf: { readonly [R in TokenRole]: readonly Grant[] } = {
  director: ['subscribe', 'program', 'admin'],
  camera: ['publish', 'subscribe'],
  viewer: ['subscribe'],
  // A guest publishes and watches like a camera once the director admitted it; never cuts or admins.
  guest: ['publish', 'subscribe'],
  recorder: ['sources:read', 'record', 'status:report', 'cuts:read'],
  node: ['mirror'],
};

export function isPeerRole(role: TokenRole): role is PeerRole {
  return (peerRoles as readonly string[]).includes(role);
}

/** Whether `given` is exactly the grants of `role`: the same set, nothing added, nothing left out. */
export function grantsMatch(role: TokenRole, given: readonly string[]): boolean {
  const expected = grantsOf[role];
  return (
    given.length === expected.length &&
    new Set(given).size === given.length &&
    expected.every((g) => given.includes(g))
  );
}

/**
 * Roles whose grants wait for the director: until admitted such a peer has only these grants,
 * and its `subscribe` reaches the program feed only (the node enforces that per consumer).
 */
export const pendingGrantsOf: { readonly [R in TokenRole]?: readonly Grant[] } = {
  guest: ['subscribe'],
};

/** Whether a role needs admission (a green room) before its full grants apply. */
export function needsAdmission(role: TokenRole): boolean {
  return pendingGrantsOf[role] !== undefined;
}

/**
 * Whether `role` has `grant`; `admitted: false` asks for a role still waiting for admission
 * (roles without a green room are always admitted).
 */
export function hasGrant(role: TokenRole, grant: Grant, admitted = true): boolean {
  const pending = pendingGrantsOf[role];
  if (!admitted && pending) return pending.includes(grant);
  return grantsOf[role].includes(grant);
}
