/**
 * What a token may do. Requests are authorised by grant, never by role name, so a new role is
 * one line here and nowhere else.
 */
export const tokenRoles = ['director', 'camera', 'viewer', 'guest'] as const;
export type TokenRole = (typeof tokenRoles)[number];

export type Grant =
  /** publish tracks (send transport, producers) */
  | 'publish'
  /** receive tracks (recv transport, consumers) */
  | 'subscribe'
  /** drive the program/preview bus */
  | 'program'
  /** create, list and revoke invites; admit, reject, mute and remove guests */
  | 'admin';

export const grantsOf: { readonly [R in TokenRole]: readonly Grant[] } = {
  director: ['subscribe', 'program', 'admin'],
  camera: ['publish', 'subscribe'],
  viewer: ['subscribe'],
  // A guest publishes and watches like a camera once the director admitted it; never cuts or admins.
  guest: ['publish', 'subscribe'],
};

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
