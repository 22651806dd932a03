import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@microstudio/protocol';
import { RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { WhipError } from '../whip/errors.ts';

/** An SDP offer larger than this is refused (413) before it is parsed. */
const MAX_OFFER_BYTES = 64 * 1024;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.LimitReached]: 429,
  [ErrorCode.RoomRecovering]: 503,
  [ErrorCode.Unavailable]: 503,
};

/**
 * What differs between WHIP ingest and WHEP playback; the HTTP resource semantics (RFC 9725:
 * POST an offer → 201 + answer + Location + ETag, DELETE the session, PATCH refused with 405,
 * OPTIONS for CORS) are the same and live here once.
 */
export interface SdpResource {
  /** The path prefix (`/whip/…`) and the name in messages. */
  kind: 'whip' | 'whep';
  /** Response headers a browser client may read. */
  exposeHeaders: string;
  /** What the bearer token is, for the 401 text (`camera invite`). */
  tokenHint: string;
  /** The query parameter handed to `create` (`name` for WHIP, `source` for WHEP). */
  queryParam: string;
  create(request: {
    roomId: string;
    token: string;
    sdp: string;
    param: string | undefined;
  }): Promise<{ session: { id: string; etag: string }; answer: string }>;
  has(roomId: string, sessionId: string): boolean;
  /** Checks the token may end this session (throws a refusal otherwise). */
  authorize(token: string, roomId: string, sessionId: string): Promise<unknown>;
  end(roomId: string, sessionId: string): void;
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
        reject(new WhipError(413, `the offer is larger than ${MAX_OFFER_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `/<kind>/:roomId` or `/<kind>/:roomId/:sessionId`, or undefined for other paths. */
function route(
  kind: string,
  url: string,
): { roomId: string; sessionId?: string; query: URLSearchParams } | undefined {
  // Prefixed rather than resolved against a base: a path starting with '//' would otherwise
  // parse as a host and throw (found by the fuzz test).
  let parsed: URL;
  try {
    parsed = new URL(`http://node${url.startsWith('/') ? url : `/${url}`}`);
  } catch {
    return undefined;
  }
  const parts = parsed.pathname.split('/').slice(1);
  if (parts[0] !== kind || parts.length < 2 || parts.length > 3 || !parts[1]) return undefined;
  try {
    const roomId = decodeURIComponent(parts[1]);
    const sessionId = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    return { roomId, ...(sessionId ? { sessionId } : {}), query: parsed.searchParams };
  } catch {
    return undefined;
  }
}

/** The HTTP resource for `resource`: answers the paths it owns and returns true; false for others. */
export function createSdpResourceHandler(resource: SdpResource, log: Logger) {
  const { kind } = resource;
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': resource.exposeHeaders,
  };
  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      ...cors,
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(`${body}\n`);
  };
  const fail = (res: ServerResponse, error: unknown) => {
    if (res.headersSent) return;
    if (error instanceof WhipError) text(res, error.status, error.message, error.headers);
    else if (error instanceof RefusedError) text(res, STATUS_OF[error.code] ?? 400, error.message);
    else {
      log.error(`${kind} request failed`, { error: String(error) });
      text(res, 500, 'internal error');
    }
  };

  async function post(req: IncomingMessage, res: ServerResponse, roomId: string, param: string | undefined) {
    const token = bearer(req);
    if (!token) {
      req.resume();
      return text(res, 401, `a bearer token (${resource.tokenHint}) is required`, {
        'www-authenticate': 'Bearer',
      });
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/sdp') {
      req.resume();
      return text(res, 415, 'the offer must be Content-Type: application/sdp', {
        'accept-post': 'application/sdp',
      });
    }
    const sdp = await readBody(req);
    const { session, answer } = await resource.create({ roomId, token, sdp, param });
    res.writeHead(201, {
      ...cors,
      'content-type': 'application/sdp',
      location: `/${kind}/${encodeURIComponent(roomId)}/${session.id}`,
      etag: session.etag,
      'cache-control': 'no-store',
    });
    res.end(answer);
  }

  async function remove(req: IncomingMessage, res: ServerResponse, roomId: string, sessionId: string) {
    req.resume();
    const token = bearer(req);
    if (!token) return text(res, 401, 'a bearer token is required', { 'www-authenticate': 'Bearer' });
    if (!resource.has(roomId, sessionId)) return text(res, 404, `no such ${kind.toUpperCase()} session`);
    await resource.authorize(token, roomId, sessionId);
    resource.end(roomId, sessionId);
    text(res, 200, 'session ended');
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = route(kind, req.url ?? '/');
    if (!target) return false;
    const { roomId, sessionId } = target;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
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
      void post(req, res, roomId, target.query.get(resource.queryParam) ?? undefined).catch((e: unknown) =>
        fail(res, e),
      );
      return true;
    }
    if (req.method === 'DELETE') {
      void remove(req, res, roomId, sessionId).catch((e: unknown) => fail(res, e));
      return true;
    }
    if (req.method === 'PATCH') {
      // RFC 9725 §4.3.1: a server without trickle ICE / ICE restart answers PATCH with 405.
      req.resume();
      text(res, 405, 'trickle ICE and ICE restart are not supported: POST a new offer', {
        allow: 'DELETE, OPTIONS',
      });
      return true;
    }
    text(res, 405, 'use DELETE to end the session', { allow: 'DELETE, PATCH, OPTIONS' });
    return true;
  };
}
