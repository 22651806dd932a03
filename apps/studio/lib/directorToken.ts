import { requestDirectorToken } from '@microstudio/client';

const storageKey = (room: string) => `microstudio:director-token:${room}`;

/**
 * The director's token: traded for the admin secret of the director link on first open, then
 * kept in this tab (so a reload keeps the control room). The secret leaves the address bar at
 * once, so a shared screen or a browser history never shows it.
 */
export async function obtainDirectorToken(room: string): Promise<string> {
  const secret = new URLSearchParams(window.location.hash.slice(1)).get('admin');
  if (secret) {
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
    const { token } = await requestDirectorToken({ roomId: room, adminSecret: secret });
    sessionStorage.setItem(storageKey(room), token);
    return token;
  }
  const stored = sessionStorage.getItem(storageKey(room));
  if (stored) return stored;
  throw new Error(
    'This control room needs the director link that npm start printed (it carries the admin secret).',
  );
}

export function forgetDirectorToken(room: string): void {
  sessionStorage.removeItem(storageKey(room));
}
