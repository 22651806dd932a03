import { announcedAddress, loadConfig } from '@microstudio/config';

export interface StudioInfo {
  cameraUrl: string;
  controlUrl: string;
  watchUrl: string;
  /** The remote guests' page (device check, green room). */
  joinUrl: string;
  /** MICROSTUDIO_MAX_INVITE_USES: the control room's bound for an invite's use count. */
  maxInviteUses: number;
}

const ROOM = /^[\w.-]{1,128}$/;

/** LAN https links of a room's three pages (what phones on the venue network can open). */
export function studioInfo(
  room: string | null,
  env: Record<string, string | undefined> = process.env,
): StudioInfo {
  const config = loadConfig(env);
  const roomId = room && ROOM.test(room) ? room : config.MICROSTUDIO_ROOM;
  const host = announcedAddress(config.MICROSTUDIO_ANNOUNCED_IP);
  const base = `https://${host.includes(':') ? `[${host}]` : host}:${config.MICROSTUDIO_STUDIO_HTTPS_PORT}`;
  const query = `?room=${encodeURIComponent(roomId)}`;
  return {
    cameraUrl: `${base}/camera${query}`,
    controlUrl: `${base}/control${query}`,
    watchUrl: `${base}/watch${query}`,
    joinUrl: `${base}/join${query}`,
    maxInviteUses: config.MICROSTUDIO_MAX_INVITE_USES,
  };
}
