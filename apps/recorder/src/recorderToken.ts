import { z } from 'zod';

/**
 * What the recorder can tell of its own token (MICROSTUDIO_RECORDER_TOKEN) without the secret
 * that signed it: the node verifies it on every call, this only catches a wrong or stale token at
 * start with a clear message instead of a stream of 401/403s later.
 */
const visibleClaims = z.object({
  role: z.string(),
  room: z.string(),
  exp: z.number(),
});

/** Why the token cannot work for `room`, or undefined when it looks right. */
export function recorderTokenProblem(token: string, room: string, now = Date.now()): string | undefined {
  const payload = token.split('.')[1];
  let claims: z.infer<typeof visibleClaims>;
  try {
    claims = visibleClaims.parse(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
  } catch {
    return 'MICROSTUDIO_RECORDER_TOKEN is not a Microstudio token';
  }
  if (claims.role !== 'recorder')
    return `MICROSTUDIO_RECORDER_TOKEN is a ${claims.role} token, not a recorder token`;
  if (claims.room !== '*' && claims.room !== room)
    return `MICROSTUDIO_RECORDER_TOKEN is for room "${claims.room}", not MICROSTUDIO_ROOM "${room}"`;
  if (claims.exp * 1000 <= now)
    return `MICROSTUDIO_RECORDER_TOKEN expired at ${new Date(claims.exp * 1000).toISOString()}`;
  return undefined;
}
