import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { type TokenRole, tokenRoles } from './grants.ts';

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
  /** Distinct clients that may join with this token (an invite's use count); absent = any. */
  uses: z.number().int().positive().max(10_000).optional(),
  /** What the director called this invite ("Cam 2", "Guest: Ana"). */
  label: z.string().max(64).optional(),
});
export type TokenClaims = z.infer<typeof claimsSchema>;

export type TokenErrorReason = 'malformed' | 'signature' | 'expired' | 'claims';

export class TokenError extends Error {
  override name = 'TokenError';
  readonly reason: TokenErrorReason;
  constructor(reason: TokenErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface IssueOptions {
  room: string;
  role: TokenRole;
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

  async issue(options: IssueOptions): Promise<{ token: string; claims: TokenClaims }> {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new TypeError('ttlSeconds must be a positive integer');
    }
    const iat = Math.floor(this.#now() / 1000);
    const claims: TokenClaims = claimsSchema.parse({
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + options.ttlSeconds,
      jti: randomUUID(),
      room: options.room,
      role: options.role,
      ...(options.uses !== undefined ? { uses: options.uses } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
    });
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .sign(this.#key);
    return { token, claims };
  }

  /** Verifies signature, expiry, issuer, audience and the exact claim set. */
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
    return parsed.data;
  }
}
