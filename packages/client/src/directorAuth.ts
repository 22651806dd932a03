import { RequestError } from './errors.ts';
import { SignalingClient, type SignalingOptions } from './signaling.ts';

/**
 * Trades the admin secret of the director link (printed by `npm start`) for a director token,
 * on a short-lived connection of its own.
 */
export async function requestDirectorToken(
  options: SignalingOptions & { roomId: string; adminSecret: string },
): Promise<{ token: string; expiresAt: number }> {
  const signaling = new SignalingClient(options);
  try {
    await signaling.connect();
    const result = await signaling.request('auth:director', {
      roomId: options.roomId,
      adminSecret: options.adminSecret,
    });
    if (!result.ok) throw new RequestError('auth:director', result.error);
    return result.data;
  } finally {
    signaling.close();
  }
}
