import { timingSafeEqual } from 'node:crypto';
import {
  isPeerRole,
  type PeerClaims,
  type PeerRole,
  type TokenClaims,
  TokenError,
  TokenIssuer,
} from '@microstudio/auth';
import { ErrorCode, type Invite, MAX_INVITE_USES } from '@microstudio/protocol';
import { LimitReachedError, RefusedError } from '../errors.ts';
import type { Revocation } from '../fabric/Fabric.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import { InviteBook, toInvite } from './InviteBook.ts';

/** A director token lasts a show day; invites carry their own expiry. */
export const DIRECTOR_TOKEN_TTL_SECONDS = 12 * 3600;

export interface AuthenticatorOptions {
  tokenSecret: string;
  /** The secret in the director link `npm start` prints; absent = no director link works. */
  adminSecret: string | undefined;
  /** MICROSTUDIO_MAX_INVITE_USES (default: the protocol's MAX_INVITE_USES). */
  maxInviteUses?: number;
  /**
   * Revocations made elsewhere (an edge: the site's, through the fabric). Asked after this
   * node's own book, on every join.
   */
  remoteRevocations?: RemoteRevocations;
  now?: () => number;
}

export interface RemoteRevocations {
  isRevoked(inviteId: string): Promise<boolean>;
}

const unauthorized = (message: string) => new RefusedError(ErrorCode.Unauthorized, message);
/** The same words at the site and at an edge. */
const REVOKED_MESSAGE = 'this invite was revoked';

/**
 * Who may join what: checks tokens at the door (signature, expiry, room, revocation, uses),
 * trades the admin secret for director tokens, and makes and revokes invites.
 */
export type AuthenticatorEvents = {
  /**
   * An invite was revoked (here, or at the site as an edge learns): whoever joined with it must
   * be let go. Matched by invite id alone: it is a random UUID, unique across rooms, and the
   * site checked the room when the director revoked it.
   */
  revoked: [revocation: Revocation];
};

export class Authenticator extends SafeEmitter<AuthenticatorEvents> {
  readonly #issuer: TokenIssuer;
  readonly #adminSecret: Buffer | undefined;
  readonly #book = new InviteBook();
  readonly #now: () => number;
  readonly #maxInviteUses: number;
  readonly #remote: RemoteRevocations | undefined;

  constructor(options: AuthenticatorOptions) {
    super();
    this.#now = options.now ?? Date.now;
    this.#maxInviteUses = options.maxInviteUses ?? MAX_INVITE_USES;
    this.#remote = options.remoteRevocations;
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
  ): Promise<{ claims: PeerClaims; commit: () => void }> {
    let verified: TokenClaims;
    try {
      verified = await this.#issuer.verify(token);
    } catch (error) {
      if (error instanceof TokenError) throw unauthorized(error.message);
      throw error;
    }
    // A recorder's or an edge's token opens a node's internal interfaces, never a seat in a room.
    const { role } = verified;
    if (!isPeerRole(role)) throw unauthorized(`a ${role} token is for a service, not for joining a room`);
    const claims: PeerClaims = { ...verified, role };
    if (claims.room !== room) throw unauthorized('this token is for another room');
    if (this.#book.isRevoked(claims.jti) || (await this.#remote?.isRevoked(claims.jti))) {
      throw unauthorized(REVOKED_MESSAGE);
    }
    if (this.#book.isBanned(claims.jti, clientId))
      throw unauthorized(
        'the director sent you away (rejected or removed): this invite no longer admits this device',
      );
    if (!this.#book.hasUseLeft(claims, clientId)) throw unauthorized('this invite has been used up');
    return { claims, commit: () => this.#book.use(claims, clientId) };
  }

  async createInvite(
    room: string,
    options: { role: PeerRole; ttlSeconds: number; uses?: number; label?: string },
  ): Promise<Invite & { token: string }> {
    if (options.uses !== undefined && options.uses > this.#maxInviteUses)
      throw new LimitReachedError('invite uses', this.#maxInviteUses);
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
    const expiresAt = this.#book.revoke(room, inviteId);
    if (expiresAt === undefined) {
      throw new RefusedError(ErrorCode.NotFound, `no invite ${inviteId.slice(0, 64)} in this room`);
    }
    this.safeEmit('revoked', { inviteId, expiresAt });
  }

  /** An edge learned of a revocation made at the site: lets go of whoever joined with it here. */
  revokedElsewhere(revocation: Revocation): void {
    this.safeEmit('revoked', revocation);
  }
}
