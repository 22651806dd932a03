/**
 * The LAN https links of the room's pages (what phones can open), with a same-origin fallback,
 * and the studio's MICROSTUDIO_MAX_INVITE_USES (null when the studio did not say).
 */
export function pageLinks(room: string): {
  cameraUrl: Promise<string>;
  watchUrl: Promise<string>;
  joinUrl: Promise<string>;
  maxInviteUses: Promise<number | null>;
} {
  const query = `?room=${encodeURIComponent(room)}`;
  type Info = { cameraUrl?: unknown; watchUrl?: unknown; joinUrl?: unknown; maxInviteUses?: unknown };
  const info: Promise<Info> = fetch(`/api/studio-info${query}`, { cache: 'no-store' })
    .then((response) => (response.ok ? (response.json() as Promise<Info>) : {}))
    .catch(() => ({}));
  const origin = window.location.origin;
  return {
    cameraUrl: info.then((i) => (typeof i.cameraUrl === 'string' ? i.cameraUrl : `${origin}/camera${query}`)),
    watchUrl: info.then((i) => (typeof i.watchUrl === 'string' ? i.watchUrl : `${origin}/watch${query}`)),
    joinUrl: info.then((i) => (typeof i.joinUrl === 'string' ? i.joinUrl : `${origin}/join${query}`)),
    maxInviteUses: info.then((i) =>
      typeof i.maxInviteUses === 'number' && Number.isInteger(i.maxInviteUses) ? i.maxInviteUses : null,
    ),
  };
}
