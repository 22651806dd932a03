import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@microstudio/protocol';
import { RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { WhipError } from '../whip/errors.ts';
import { WhepError } from './errors.ts';
import type { WhepService } from './WhepService.ts';

/** An SDP offer larger than this is refused (413) before it is parsed. */
const MAX_OFFER_BYTES = 64 * 1024;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Location, ETag, Accept-Post, Allow, Retry-After',
};

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.LimitReached]: 429,
  [ErrorCode.RoomRecovering]: 503,
  [ErrorCode.Unavailable]: 503,
};

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...CORS,
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(`${body}\n`);
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OFFER_BYTES) {
        reject(new WhepError(413, `the offer is larger than ${MAX_OFFER_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `/whep/:roomId` or `/whep/:roomId/:sessionId`, or undefined for other paths. */
function route(url: string): { roomId: string; sessionId?: string; query: URLSearchParams } | undefined {
  // Prefixed rather than resolved against a base: a path starting with '//' would parse as a host.
  let parsed: URL;
  try {
    parsed = new URL(`http://node${url.startsWith('/') ? url : `/${url}`}`);
  } catch {
    return undefined;
  }
  const parts = parsed.pathname.split('/').slice(1);
  if (parts[0] !== 'whep' || parts.length < 2 || parts.length > 3 || !parts[1]) return undefined;
  try {
    const roomId = decodeURIComponent(parts[1]);
    const sessionId = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    return { roomId, ...(sessionId ? { sessionId } : {}), query: parsed.searchParams };
  } catch {
    return undefined;
  }
}

function fail(res: ServerResponse, error: unknown, log: Logger): void {
  if (res.headersSent) return;
  if (error instanceof WhepError) text(res, error.status, error.message, error.headers);
  else if (error instanceof WhipError) text(res, error.status, error.message);
  else if (error instanceof RefusedError) text(res, STATUS_OF[error.code] ?? 400, error.message);
  else {
    log.error('whep request failed', { error: String(error) });
    text(res, 500, 'internal error');
  }
}

/**
 * The WHEP HTTP resource (draft-ietf-wish-whep; the session semantics of WHIP, RFC 9725).
 * Answers the paths it owns and returns true; false for others.
 * POST /whep/:room[?source=:sourceId] (recvonly offer) → 201 + answer; DELETE /whep/:room/:session;
 * PATCH → 405 (no trickle ICE or ICE restart: the offer carries all candidates); OPTIONS → CORS.
 */
export function createWhepHandler(whep: WhepService, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = route(req.url ?? '/');
    if (!target) return false;
    const { roomId, sessionId } = target;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'access-control-allow-methods': sessionId ? 'DELETE, PATCH, OPTIONS' : 'POST, OPTIONS',
        'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
        'access-control-max-age': '86400',
        ...(sessionId ? {} : { 'accept-post': 'application/sdp' }),
      });
      res.end();
      return true;
    }
    if (!sessionId) {
      if (req.method !== 'POST') {
        text(res, 405, 'use POST with an SDP offer', { allow: 'POST, OPTIONS' });
        return true;
      }
      void post(req, res, roomId, target.query.get('source') ?? undefined).catch((e: unknown) =>
        fail(res, e, log),
      );
      return true;
    }
    if (req.method === 'DELETE') {
      void remove(req, res, roomId, sessionId).catch((e: unknown) => fail(res, e, log));
      return true;
    }
    if (req.method === 'PATCH') {
      // As for WHIP (RFC 9725 §4.3.1): no trickle ICE / ICE restart, so PATCH answers 405.
      req.resume();
      text(res, 405, 'trickle ICE and ICE restart are not supported: POST a new offer', {
        allow: 'DELETE, OPTIONS',
      });
      return true;
    }
    text(res, 405, 'use DELETE to end the session', { allow: 'DELETE, PATCH, OPTIONS' });
    return true;
  };

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    roomId: string,
    sourceId: string | undefined,
  ): Promise<void> {
    const token = bearer(req);
    if (!token) {
      req.resume();
      return text(res, 401, 'a bearer token (viewer invite) is required', { 'www-authenticate': 'Bearer' });
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/sdp') {
      req.resume();
      return text(res, 415, 'the offer must be Content-Type: application/sdp', {
        'accept-post': 'application/sdp',
      });
    }
    const sdp = await readBody(req);
    const { session, answer } = await whep.play({ roomId, token, sdp, sourceId });
    res.writeHead(201, {
      ...CORS,
      'content-type': 'application/sdp',
      location: `/whep/${encodeURIComponent(roomId)}/${session.id}`,
      etag: session.etag,
      'cache-control': 'no-store',
    });
    res.end(answer);
  }

  async function remove(
    req: IncomingMessage,
    res: ServerResponse,
    roomId: string,
    sessionId: string,
  ): Promise<void> {
    req.resume();
    const token = bearer(req);
    if (!token) return text(res, 401, 'a bearer token is required', { 'www-authenticate': 'Bearer' });
    if (!whep.session(roomId, sessionId)) return text(res, 404, 'no such WHEP session');
    await whep.authorize(token, roomId, sessionId);
    whep.end(roomId, sessionId);
    text(res, 200, 'session ended');
  }
}
