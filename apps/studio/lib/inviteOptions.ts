import {
  INVITE_USES_CEILING,
  MAX_INVITE_TTL_SECONDS,
  type RequestOf,
  type Role,
} from '@microstudio/protocol';

/** The roles the control room makes invite links for. */
export type InviteRole = Extract<Role, 'camera' | 'viewer' | 'guest'>;

/** How long a new invite link lives: the director's choices, none beyond MAX_INVITE_TTL_SECONDS. */
export const INVITE_EXPIRIES: readonly { seconds: number; label: string }[] = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 12 * 3600, label: '12 hours' },
  { seconds: 24 * 3600, label: '24 hours' },
  { seconds: 7 * 24 * 3600, label: '7 days' },
].filter((choice) => choice.seconds <= MAX_INVITE_TTL_SECONDS);

/** A show day, as before the choice existed. */
export const DEFAULT_INVITE_TTL_SECONDS = 12 * 3600;

/**
 * Devices one link admits when the director leaves the count empty: a guest link admits one
 * device (a removed guest cannot come back with it); camera and viewer links any number.
 */
const DEFAULT_USES: Readonly<Record<InviteRole, number | undefined>> = {
  camera: undefined,
  viewer: undefined,
  guest: 1,
};

export type InviteRequest = RequestOf<'invite:create'>;

/**
 * The invite:create request for the director's choices, or the reason it cannot be made.
 * `usesText` is the count field as typed ('' = the role's default); `maxUses` the studio's
 * MICROSTUDIO_MAX_INVITE_USES when known (the node checks its own and refuses above it).
 */
export function inviteRequest(
  role: InviteRole,
  ttlSeconds: number,
  usesText: string,
  maxUses: number | null,
): { ok: true; request: InviteRequest } | { ok: false; error: string } {
  if (!INVITE_EXPIRIES.some((choice) => choice.seconds === ttlSeconds))
    return { ok: false, error: `Choose how long the invite lives (${expiryLabels()}).` };
  const typed = usesText.trim();
  let uses = DEFAULT_USES[role];
  if (typed !== '') {
    const count = Number(typed);
    const ceiling = maxUses ?? INVITE_USES_CEILING;
    if (!Number.isInteger(count) || count < 1 || count > INVITE_USES_CEILING)
      return {
        ok: false,
        error: `The number of uses is a whole number from 1 to ${ceiling}, or empty (${USES_DEFAULTS_TEXT}).`,
      };
    uses = count;
  }
  return {
    ok: true,
    request: {
      role,
      ttlSeconds,
      label: `${role} link`,
      ...(uses !== undefined ? { uses } : {}),
    },
  };
}

/** What an empty count means, for the field's hint and the error. */
export const USES_DEFAULTS_TEXT =
  'empty: one device for a guest link, any number for camera and viewer links';

const expiryLabels = () => INVITE_EXPIRIES.map((choice) => choice.label).join(', ');

/** An invite's expiry for the list: the time today, date and time further off. */
export function expiryText(expiresAt: number, now: number): string {
  const at = new Date(expiresAt);
  return expiresAt - now < 20 * 3600 * 1000 ? at.toLocaleTimeString() : at.toLocaleString();
}
