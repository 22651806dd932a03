import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@microstudio/protocol';
import { RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { WhipError } from '../whip/errors.ts';
import type { IceSession } from '../whip/IceSession.ts';
import { parseIceFragment, SDPFRAG_TYPE } from '../whip/sdpFragment.ts';

/** An SDP offer (or PATCH fragment) larger than this is refused (413) before it is parsed. */
const MAX_OFFER_BYTES = 64 * 1024;

/** The methods each resource answers (Allow on a 405, and CORS preflight). */
const ENDPOINT_METHODS = 'POST, GET, HEAD, OPTIONS';
const SESSION_METHODS = 'PATCH, DELETE, GET, HEAD, OPTIONS';

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
 * POST an offer → 201 + answer + Location + ETag, PATCH an sdpfrag for trickle ICE or an ICE
 * restart, DELETE the session, GET → 204 as the resources have no representation, OPTIONS for
 * CORS) are the same and live here once.
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
  /** The session's ICE state, for PATCH (undefined when there is no such session). */
  ice(roomId: string, sessionId: string): IceSession | undefined;
  /** Checks the token may end this session (throws a refusal otherwise). */
  authorize(token: string, roomId: string, sessionId: string): Promise<unknown>;
  end(roomId: string, sessionId: string): void;
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export interface SdpResourceOptions {
  /**
   * Web origins (the studio's) whose pages may read the answers: a browser request from one of
   * them gets it back in Access-Control-Allow-Origin, others get no CORS grant. Requests without
   * Origin (encoders, OBS, players outside a browser) are not browsers and are unaffected.
   */
  allowedOrigins: ReadonlySet<string>;
}

/** No web page may read the answers (the default when the node passes no origins). */
export const NO_BROWSER_ORIGINS: SdpResourceOptions = { allowedOrigins: new Set() };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OFFER_BYTES) {
        reject(new WhipError(413, `the body is larger than ${MAX_OFFER_BYTES} bytes`));
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
export function createSdpResourceHandler(resource: SdpResource, log: Logger, options: SdpResourceOptions) {
  const { kind } = resource;
  /** CORS headers for this request: the Origin echoed only when it is one of the studio's. */
  const corsFor = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (origin === undefined || !options.allowedOrigins.has(origin)) return { vary: 'Origin' };
    return {
      vary: 'Origin',
      'access-control-allow-origin': origin,
      'access-control-expose-headers': resource.exposeHeaders,
    };
  };
  const text = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      ...corsFor(req),
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(`${body}\n`);
  };
  const empty = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
  ) => {
    res.writeHead(status, { ...corsFor(req), 'cache-control': 'no-store', ...headers });
    res.end();
  };
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    if (res.headersSent) return;
    if (error instanceof WhipError) text(req, res, error.status, error.message, error.headers);
    else if (error instanceof RefusedError) text(req, res, STATUS_OF[error.code] ?? 400, error.message);
    else {
      log.error(`${kind} request failed`, { error: String(error) });
      text(req, res, 500, 'internal error');
    }
  };

  async function post(req: IncomingMessage, res: ServerResponse, roomId: string, param: string | undefined) {
    const token = bearer(req);
    if (!token) {
      req.resume();
      return text(req, res, 401, `a bearer token (${resource.tokenHint}) is required`, {
        'www-authenticate': 'Bearer',
      });
    }
    if (mediaType(req) !== 'application/sdp') {
      req.resume();
      return text(req, res, 415, 'the offer must be Content-Type: application/sdp', {
        'accept-post': 'application/sdp',
      });
    }
    const sdp = await readBody(req);
    const { session, answer } = await resource.create({ roomId, token, sdp, param });
    res.writeHead(201, {
      ...corsFor(req),
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
    if (!token) return text(req, res, 401, 'a bearer token is required', { 'www-authenticate': 'Bearer' });
    if (!resource.has(roomId, sessionId)) return text(req, res, 404, `no such ${kind.toUpperCase()} session`);
    // If-Match is ignored here (RFC 9725 §4.3.1: no ICE session matching for DELETE).
    await resource.authorize(token, roomId, sessionId);
    resource.end(roomId, sessionId);
    text(req, res, 200, 'session ended');
  }

  /** RFC 9725 §4.3: trickle ICE (204) or an ICE restart (200 + sdpfrag + new ETag). */
  async function patch(req: IncomingMessage, res: ServerResponse, roomId: string, sessionId: string) {
    const token = bearer(req);
    if (!token) {
      req.resume();
      return text(req, res, 401, 'a bearer token is required', { 'www-authenticate': 'Bearer' });
    }
    if (!resource.ice(roomId, sessionId)) {
      req.resume();
      return text(req, res, 404, `no such ${kind.toUpperCase()} session`);
    }
    await resource.authorize(token, roomId, sessionId).catch((error: unknown) => {
      req.resume();
      throw error;
    });
    if (mediaType(req) !== SDPFRAG_TYPE) {
      req.resume();
      return text(req, res, 415, `PATCH takes Content-Type: ${SDPFRAG_TYPE}`, {
        'accept-patch': SDPFRAG_TYPE,
      });
    }
    const body = await readBody(req);
    // Looked up again: the session may have ended while the body was read.
    const ice = resource.ice(roomId, sessionId);
    if (!ice) return text(req, res, 404, `no such ${kind.toUpperCase()} session`);
    ice.checkIfMatch(req.headers['if-match']);
    const outcome = await ice.patch(parseIceFragment(body));
    if (outcome.kind === 'trickle') return empty(req, res, 204, {});
    res.writeHead(200, {
      ...corsFor(req),
      'content-type': SDPFRAG_TYPE,
      etag: outcome.etag,
      'cache-control': 'no-store',
    });
    res.end(outcome.body);
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = route(kind, req.url ?? '/');
    if (!target) return false;
    const { roomId, sessionId } = target;
    const methods = sessionId ? SESSION_METHODS : ENDPOINT_METHODS;
    if (req.method === 'OPTIONS') {
      req.resume();
      const cors = corsFor(req);
      empty(req, res, 204, {
        ...(cors['access-control-allow-origin']
          ? {
              'access-control-allow-methods': methods,
              'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
              'access-control-max-age': '86400',
            }
          : {}),
        allow: methods,
        ...(sessionId ? { 'accept-patch': SDPFRAG_TYPE } : { 'accept-post': 'application/sdp' }),
      });
      return true;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // RFC 9725 §4: the endpoint and sessions have no representation, and MUST answer GET
      // with a 2xx and no content.
      req.resume();
      if (sessionId && !resource.has(roomId, sessionId))
        text(req, res, 404, `no such ${kind.toUpperCase()} session`);
      else empty(req, res, 204, {});
      return true;
    }
    if (!sessionId) {
      if (req.method !== 'POST') {
        req.resume();
        text(req, res, 405, 'use POST with an SDP offer', { allow: methods });
        return true;
      }
      void post(req, res, roomId, target.query.get(resource.queryParam) ?? undefined).catch((e: unknown) =>
        fail(req, res, e),
      );
      return true;
    }
    if (req.method === 'DELETE') {
      void remove(req, res, roomId, sessionId).catch((e: unknown) => fail(req, res, e));
      return true;
    }
    if (req.method === 'PATCH') {
      void patch(req, res, roomId, sessionId).catch((e: unknown) => fail(req, res, e));
      return true;
    }
    req.resume();
    text(req, res, 405, 'use PATCH (trickle ICE, ICE restart) or DELETE (end the session)', {
      allow: methods,
    });
    return true;
  };
}

/** The request's media type, lower case, without parameters. */
function mediaType(req: IncomingMessage): string | undefined {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
}
