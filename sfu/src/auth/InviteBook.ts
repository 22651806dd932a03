import type { PeerClaims } from '@microstudio/auth';
import type { Invite } from '@microstudio/protocol';

interface Entry {
  claims: PeerClaims;
  /** Distinct clients (devices) that joined with this token. */
  clients: Set<string>;
  revoked: boolean;
  /** Devices the director rejected or removed: this invite never lets them in again. */
  banned?: Set<string>;
  /** Listed in the control room (made there), rather than only seen at a join. */
  listed: boolean;
}

/**
 * What the node remembers of tokens beyond their signature: which were revoked and which
 * devices used an invite with a use count. In memory on one box (a restart forgets revocations
 * of tokens it issued, which expire anyway); a Redis book will implement the same methods.
 */
export class InviteBook {
  readonly #entries = new Map<string, Entry>();

  record(claims: PeerClaims, listed: boolean): void {
    const entry = this.#entries.get(claims.jti);
    if (entry) entry.listed ||= listed;
    else this.#entries.set(claims.jti, { claims, clients: new Set(), revoked: false, listed });
  }

  isRevoked(jti: string): boolean {
    return this.#entries.get(jti)?.revoked ?? false;
  }

  /** Whether `clientId` may join with this token: a device already counted always may. */
  hasUseLeft(claims: PeerClaims, clientId: string): boolean {
    if (this.isBanned(claims.jti, clientId)) return false;
    if (claims.uses === undefined) return true;
    const clients = this.#entries.get(claims.jti)?.clients;
    if (!clients) return true;
    return clients.has(clientId) || clients.size < claims.uses;
  }

  /** Counts a successful join (after it succeeded, so a refused join uses nothing up). */
  use(claims: PeerClaims, clientId: string): void {
    this.record(claims, false);
    this.#entries.get(claims.jti)?.clients.add(clientId);
  }

  isBanned(jti: string, clientId: string): boolean {
    return this.#entries.get(jti)?.banned?.has(clientId) ?? false;
  }

  /**
   * A device was turned away (a guest rejected or removed): its use stays counted and this invite
   * no longer admits it. False when the invite is not known in `room`.
   */
  ban(room: string, jti: string, clientId: string): boolean {
    const entry = this.#entries.get(jti);
    if (!entry || entry.claims.room !== room) return false;
    entry.clients.add(clientId);
    entry.banned ??= new Set();
    entry.banned.add(clientId);
    return true;
  }

  /**
   * Revokes an invite of `room` and returns its expiry (ms since epoch, how long the revocation
   * matters); undefined when no such invite is known there.
   */
  revoke(room: string, jti: string): number | undefined {
    const entry = this.#entries.get(jti);
    if (!entry || entry.claims.room !== room) return undefined;
    entry.revoked = true;
    return entry.claims.exp * 1000;
  }

  list(room: string, now: number): Invite[] {
    const invites: Invite[] = [];
    for (const [jti, entry] of this.#entries) {
      if (!entry.listed || entry.claims.room !== room) continue;
      if (entry.claims.exp * 1000 < now) {
        this.#entries.delete(jti);
        continue;
      }
      invites.push(toInvite(entry));
    }
    return invites;
  }
}

export function toInvite(entry: { claims: PeerClaims; clients: Set<string>; revoked: boolean }): Invite {
  const { claims } = entry;
  return {
    inviteId: claims.jti,
    role: claims.role,
    ...(claims.label !== undefined ? { label: claims.label } : {}),
    expiresAt: claims.exp * 1000,
    ...(claims.uses !== undefined ? { uses: claims.uses } : {}),
    used: entry.clients.size,
    revoked: entry.revoked,
  };
}
