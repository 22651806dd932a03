import { createHmac } from 'node:crypto';
import type { IceServer } from '@microstudio/protocol';

/**
 * TURN credentials in the REST shared-secret scheme (draft-uberti-behave-turn-rest, coturn's
 * `use-auth-secret`): the username is `<expiry unix seconds>:<user>`, the password is
 * base64(HMAC-SHA1(secret, username)). coturn recomputes the HMAC with its `static-auth-secret`
 * and refuses the credential once the expiry has passed, so the node never hands out a lasting
 * (static) password.
 */
export interface TurnCredentialOptions {
  /** The secret shared with coturn's static-auth-secret. */
  secret: string;
  /** How long the credential is valid. */
  ttlSeconds: number;
  /** Who it is for (the peer's clientId); only for coturn's logs and quotas. */
  user: string;
  /** Milliseconds since the epoch (Date.now()). */
  now: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which coturn refuses the credential. */
  expiresAt: number;
}

export function turnCredentials(options: TurnCredentialOptions): TurnCredentials {
  const expiresAt = Math.floor(options.now / 1000) + options.ttlSeconds;
  // A ':' in the user part would be harmless for coturn (it splits at the first one), but keep it clean.
  const username = `${expiresAt}:${options.user.replaceAll(':', '_')}`;
  const credential = createHmac('sha1', options.secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

export interface TurnSettings {
  /** turn:/turns: URLs; empty = no TURN. */
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

/** Parses MICROSTUDIO_TURN_URLS (comma-separated) into settings; undefined when TURN is off. */
export function turnSettings(
  urls: string | undefined,
  secret: string | undefined,
  ttlSeconds: number,
): TurnSettings | undefined {
  const list = (urls ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (list.length === 0) return undefined;
  if (!secret) throw new Error('MICROSTUDIO_TURN_URLS is set but MICROSTUDIO_TURN_SECRET is not');
  return { urls: list, secret, ttlSeconds };
}

/** The ICE servers one join gets: fresh short-lived TURN credentials for `user`, or none. */
export function iceServersFor(
  turn: TurnSettings | undefined,
  user: string,
  now: number = Date.now(),
): IceServer[] {
  if (!turn) return [];
  const { username, credential } = turnCredentials({
    secret: turn.secret,
    ttlSeconds: turn.ttlSeconds,
    user,
    now,
  });
  return [{ urls: turn.urls, username, credential }];
}
