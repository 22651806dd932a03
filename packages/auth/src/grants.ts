/**
 * What a token may do. Requests are authorised by grant, never by role name, so a new role is
 * one line here and nowhere else.
 */
export const tokenRoles = ['director', 'camera', 'viewer'] as const;
export type TokenRole = (typeof tokenRoles)[number];

export type Grant =
  /** publish tracks (send transport, producers) */
  | 'publish'
  /** receive tracks (recv transport, consumers) */
  | 'subscribe'
  /** drive the program/preview bus */
  | 'program'
  /** create, list and revoke invites */
  | 'admin';

export const grantsOf: { readonly [R in TokenRole]: readonly Grant[] } = {
  director: ['subscribe', 'program', 'admin'],
  camera: ['publish', 'subscribe'],
  viewer: ['subscribe'],
};

export function hasGrant(role: TokenRole, grant: Grant): boolean {
  return grantsOf[role].includes(grant);
}
