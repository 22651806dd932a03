import { loadConfig } from '@microstudio/config';

/** How long the studio waits for the media node before answering 502. */
export const SFU_TIMEOUT_MS = 2000;

export type SfuAnswer = { ok: true; status: number; body: unknown } | { ok: false; response: Response };

/** A JSON answer that no cache keeps. */
export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { 'Cache-Control': 'no-store' } });
}

/**
 * GET `path` (absolute, with its query) on the media node at MICROSTUDIO_SFU_URL, as JSON.
 * Every failure is already an answer for the browser: 500 when the studio's configuration is
 * invalid, 502 when the node is unreachable, slow (> `timeoutMs`, default 2 s) or answers
 * something that is not JSON. The node's address never appears in an error.
 */
export async function sfuGet(
  path: string,
  env: Record<string, string | undefined> = process.env,
  timeoutMs = SFU_TIMEOUT_MS,
): Promise<SfuAnswer> {
  let url: URL;
  try {
    url = new URL(path, loadConfig(env).MICROSTUDIO_SFU_URL);
  } catch (error) {
    console.error('studio configuration:', error instanceof Error ? error.message : error);
    return { ok: false, response: json({ error: 'studio configuration is invalid' }, 500) };
  }
  let response: Response;
  try {
    response = await fetch(url, {
      cache: 'no-store',
      redirect: 'error',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    const message = timedOut
      ? `media node did not answer within ${timeoutMs / 1000} s`
      : 'media node unreachable';
    return { ok: false, response: json({ error: message }, 502) };
  }
  try {
    return { ok: true, status: response.status, body: await response.json() };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    const message = timedOut
      ? `media node did not answer within ${timeoutMs / 1000} s`
      : `media node sent a malformed answer (HTTP ${response.status})`;
    return { ok: false, response: json({ error: message }, 502) };
  }
}
