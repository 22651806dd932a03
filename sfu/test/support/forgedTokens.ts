import { createHmac, randomUUID } from 'node:crypto';
import { TokenIssuer } from '@microstudio/auth';

/**
 * Tokens a node must refuse, made the way an attacker (or a stale deployment) would: correctly
 * HS256-signed JWTs with chosen claims, tokens signed with another secret, expired ones.
 */

/** Signs `claims` as an HS256 JWT with `secret`, whatever they say (no schema applied). */
export function signClaims(secret: string, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** A token's claims as TokenIssuer writes them, for `role` with the given grants and room. */
export function claimsOf(
  role: string,
  room: string,
  grants: readonly string[],
  ttlSeconds = 600,
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'microstudio',
    aud: 'microstudio-node',
    iat: now,
    exp: now + ttlSeconds,
    jti: randomUUID(),
    room,
    role,
    grants,
  };
}

/** A genuine token of `role`, issued an hour ago with a one-minute life: expired. */
export async function expiredToken(
  secret: string,
  role: 'recorder' | 'node' | 'camera',
  room: string,
): Promise<string> {
  const anHourAgo = () => Date.now() - 3_600_000;
  return (await new TokenIssuer(secret, anHourAgo).issue({ room, role, ttlSeconds: 60 })).token;
}
