import { timingSafeEqual } from 'node:crypto';
import { type TokenClaims, TokenError, TokenIssuer, type TokenRole } from '@microstudio/auth';
import { ErrorCode, type Invite } from '@microstudio/protocol';
import { RefusedError } from '../errors.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import { InviteBook, toInvite } from './InviteBook.ts';

/** A director token lasts a show day; invites carry their own expiry. */
export const DIRECTOR_TOKEN_TTL_SECONDS = 12 * 3600;

export interface AuthenticatorOptions {
  tokenSecret: string;
  /** The secret in the director link `npm start` prints; absent = no director link works. */
  adminSecret: string | undefined;
  now?: () => number;
}

const unauthorized = (message: string) => new RefusedError(ErrorCode.Unauthorized, message);

/**
 * Who may join what: checks tokens at the door (signature, expiry, room, revocation, uses),
 * trades the admin secret for director tokens, and makes and revokes invites.
 */
export type AuthenticatorEvents = {
  /** An invite was revoked: whoever joined with it must be let go. */
  revoked: [room: string, inviteId: string];
};

export class Authenticator extends SafeEmitter<AuthenticatorEvents> {
  readonly #issuer: TokenIssuer;
  readonly #adminSecret: Buffer | undefined;
  readonly #book = new InviteBook();
  readonly #now: () => number;

  constructor(options: AuthenticatorOptions) {
    super();
    this.#now = options.now ?? Date.now;
    this.#issuer = new TokenIssuer(options.tokenSecret, this.#now);
    this.#adminSecret = options.adminSecret ? Buffer.from(options.adminSecret) : undefined;
  }

  get issuer(): TokenIssuer {
    return this.#issuer;
  }

  async directorToken(room: string, adminSecret: string): Promise<{ token: string; expiresAt: number }> {
    const given = Buffer.from(adminSecret);
    const expected = this.#adminSecret;
    // Constant time: a wrong guess must not tell how many leading characters were right.
    if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw unauthorized('the admin secret is not valid (use the director link npm start printed)');
    }
    const { token, claims } = await this.#issuer.issue({
      room,
      role: 'director',
      ttlSeconds: DIRECTOR_TOKEN_TTL_SECONDS,
    });
    return { token, expiresAt: claims.exp * 1000 };
  }

  /**
   * Checks a token for joining `room` as device `clientId`. Returns the claims and a commit
   * function that counts the use once the join has succeeded.
   */
  async admit(
    token: string,
    room: string,
    clientId: string,
  ): Promise<{ claims: TokenClaims; commit: () => void }> {
    let claims: TokenClaims;
    try {
      claims = await this.#issuer.verify(token);
    } catch (error) {
      if (error instanceof TokenError) throw unauthorized(error.message);
      throw error;
    }
    if (claims.room !== room) throw unauthorized('this token is for another room');
    if (this.#book.isRevoked(claims.jti)) throw unauthorized('this invite was revoked');
    if (this.#book.isBanned(claims.jti, clientId))
      throw unauthorized(
        'the director sent you away (rejected or removed): this invite no longer admits this device',
      );
    if (!this.#book.hasUseLeft(claims, clientId)) throw unauthorized('this invite has been used up');
    return { claims, commit: () => this.#book.use(claims, clientId) };
  }

  async createInvite(
    room: string,
    options: { role: TokenRole; ttlSeconds: number; uses?: number; label?: string },
  ): Promise<Invite & { token: string }> {
    const { token, claims } = await this.#issuer.issue({ room, ...options });
    this.#book.record(claims, true);
    return { ...toInvite({ claims, clients: new Set(), revoked: false }), token };
  }

  listInvites(room: string): Invite[] {
    return this.#book.list(room, this.#now());
  }

  /**
   * A guest was rejected or removed: the use it made of its invite is spent for good and the
   * invite does not admit that device again (other devices while uses are left).
   */
  spendInvite(room: string, inviteId: string, clientId: string): void {
    this.#book.ban(room, inviteId, clientId);
  }

  revokeInvite(room: string, inviteId: string): void {
    if (!this.#book.revoke(room, inviteId)) {
      throw new RefusedError(ErrorCode.NotFound, `no invite ${inviteId.slice(0, 64)} in this room`);
    }
    this.safeEmit('revoked', room, inviteId);
  }
}
