import { randomUUID } from 'node:crypto';
import { INVITE_USES_CEILING } from '@microstudio/protocol';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import {
  ANY_ROOM,
  grantsMatch,
  grantsOf,
  isPeerRole,
  type PeerRole,
  type TokenRole,
  tokenRoles,
} from './grants.ts';

const ISSUER = 'microstudio';
const AUDIENCE = 'microstudio-node';
const ALGORITHM = 'HS256';
/** A shorter secret would make HS256 tokens guessable offline. */
export const MIN_SECRET_LENGTH = 32;

/**
 * The claims of a Microstudio token, exactly: a token carrying anything else is refused, so a
 * token minted for another system (or hand-edited) cannot smuggle in meaning we never check.
 */
const claimsSchema = z.strictObject({
  iss: z.literal(ISSUER),
  aud: z.literal(AUDIENCE),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1).max(64),
  room: z.string().min(1).max(128),
  role: z.enum(tokenRoles),
  /**
   * What the token may do: always exactly the role's grants (grantsOf). The node authorises by
   * its own table, never by this claim; it is checked so a token whose grants were widened (or
   * narrowed) is refused as an escalation attempt rather than silently reinterpreted.
   */
  grants: z.array(z.string().max(32)).max(16),
  /** Distinct clients that may join with this token (an invite's use count); absent = any. */
  uses: z.number().int().positive().max(INVITE_USES_CEILING).optional(),
  /** What the director called this invite ("Cam 2", "Guest: Ana"). */
  label: z.string().max(64).optional(),
});
export type TokenClaims = z.infer<typeof claimsSchema>;
/** The claims of a token that joins a room as a peer (never a service's). */
export type PeerClaims = TokenClaims & { role: PeerRole };

/** `grants`: the grants claim is not exactly the role's grants (an escalation attempt). */
export type TokenErrorReason = 'malformed' | 'signature' | 'expired' | 'claims' | 'grants';

export class TokenError extends Error {
  override name = 'TokenError';
  readonly reason: TokenErrorReason;
  constructor(reason: TokenErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface IssueOptions<R extends TokenRole = TokenRole> {
  /** The room, or ANY_ROOM ('*') for a service token (recorder, node) valid in every room. */
  room: string;
  role: R;
  ttlSeconds: number;
  uses?: number;
  label?: string;
}

/** Issues and verifies tokens with one shared secret (every node of a deployment has it). */
export class TokenIssuer {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(secret: string, now: () => number = Date.now) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new TypeError(`token secret must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    this.#key = new TextEncoder().encode(secret);
    this.#now = now;
  }

  async issue<R extends TokenRole>(
    options: IssueOptions<R>,
  ): Promise<{ token: string; claims: TokenClaims & { role: R } }> {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new TypeError('ttlSeconds must be a positive integer');
    }
    if (options.room === ANY_ROOM && isPeerRole(options.role)) {
      throw new TypeError(
        `a ${options.role} token is for one room: only service tokens may name "${ANY_ROOM}"`,
      );
    }
    const iat = Math.floor(this.#now() / 1000);
    const claims = claimsSchema.parse({
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + options.ttlSeconds,
      jti: randomUUID(),
      room: options.room,
      role: options.role,
      grants: [...grantsOf[options.role]],
      ...(options.uses !== undefined ? { uses: options.uses } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
    });
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .sign(this.#key);
    return { token, claims: { ...claims, role: options.role } };
  }

  /**
   * Verifies signature, expiry, issuer, audience, the exact claim set, that the grants are
   * exactly the role's, and that only a service token names every room.
   */
  async verify(token: string): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.#now()),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenError('expired', 'token expired');
      if (error instanceof errors.JWSSignatureVerificationFailed) {
        throw new TokenError('signature', 'token signature is not valid');
      }
      if (error instanceof errors.JWTClaimValidationFailed) {
        throw new TokenError('claims', `token claim "${error.claim}" is not valid`);
      }
      throw new TokenError('malformed', 'not a valid token');
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) throw new TokenError('claims', 'token carries unexpected or missing claims');
    const claims = parsed.data;
    if (!grantsMatch(claims.role, claims.grants)) {
      throw new TokenError(
        'grants',
        `token grants [${claims.grants.join(', ').slice(0, 200)}] are not those of a ${claims.role} [${grantsOf[claims.role].join(', ')}]: refused`,
      );
    }
    if (claims.room === ANY_ROOM && isPeerRole(claims.role)) {
      throw new TokenError('claims', `a ${claims.role} token cannot be for every room ("${ANY_ROOM}")`);
    }
    return claims;
  }
}
