import {
  ANY_ROOM,
  type Grant,
  hasGrant,
  type ServiceRole,
  type TokenClaims,
  TokenError,
  type TokenIssuer,
} from '@microstudio/auth';

/**
 * Tokens of services (the recorder, an edge's node channel): JWTs signed with the deployment's
 * token secret like every other token, with a service role and exactly its grants. They replace
 * the shared node secret for the recorder API and the node channel, so each caller is limited to
 * its role's grants and, for the recorder, to the room its token names (or `*`: every room).
 */

/** Why a service token was refused: 401 = not a valid token at all, 403 = valid but not for this. */
export class ServiceTokenRefusal extends Error {
  override name = 'ServiceTokenRefusal';
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies a service token: signature, expiry, exact claims and grants (TokenIssuer), then the role. */
export async function verifyServiceToken(
  issuer: TokenIssuer,
  token: string | undefined,
  role: ServiceRole,
): Promise<TokenClaims> {
  if (!token) throw new ServiceTokenRefusal(401, `a ${role} token is required`);
  let claims: TokenClaims;
  try {
    claims = await issuer.verify(token);
  } catch (error) {
    if (error instanceof TokenError)
      throw new ServiceTokenRefusal(401, `${role} token refused: ${error.message}`);
    throw error;
  }
  if (claims.role !== role)
    throw new ServiceTokenRefusal(
      403,
      `a ${claims.role} token cannot be used here (a ${role} token is needed)`,
    );
  return claims;
}

/** Refuses unless the (verified) token has `grant`. */
export function requireGrant(claims: TokenClaims, grant: Grant): void {
  if (!hasGrant(claims.role, grant))
    throw new ServiceTokenRefusal(403, `a ${claims.role} token has no "${grant}" grant`);
}

/** Whether the token's room scope covers `room`. */
export function coversRoom(claims: TokenClaims, room: string): boolean {
  return claims.room === ANY_ROOM || claims.room === room;
}

/** Refuses unless the token's room scope covers `room`. */
export function requireRoom(claims: TokenClaims, room: string): void {
  if (!coversRoom(claims, room))
    throw new ServiceTokenRefusal(
      403,
      `this ${claims.role} token is for room "${claims.room}", not "${room.slice(0, 128)}"`,
    );
}

/**
 * How long an edge's node token lasts: it is checked once, when the channel connects, and a
 * fresh one is minted for every (re)connection, so a short life costs nothing.
 */
export const NODE_TOKEN_TTL_SECONDS = 300;

/** A fresh `node` token for every room: what an edge presents to its site's node channel. */
export async function mintNodeToken(issuer: TokenIssuer): Promise<string> {
  return (await issuer.issue({ room: ANY_ROOM, role: 'node', ttlSeconds: NODE_TOKEN_TTL_SECONDS })).token;
}
