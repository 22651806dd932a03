import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenClaims, TokenIssuer } from '@microstudio/auth';
import { recorderStatusSchema } from '@microstudio/protocol';
import type { ZodType } from 'zod';
import {
  coversRoom,
  requireGrant,
  requireRoom,
  ServiceTokenRefusal,
  verifyServiceToken,
} from '../auth/serviceTokens.ts';
import { NotFoundError, RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RecordingDesks } from './RecordingDesk.ts';
import type { RecordingService } from './RecordingService.ts';
import { startRecordingBody } from './schemas.ts';

export const RECORDER_API_PREFIX = '/internal/recorder/v1';
const MAX_BODY_BYTES = 16 * 1024;

/** A request the API refuses with a 4xx status and a message for the recorder's log. */
class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RecorderApiDeps {
  recordings: RecordingService;
  /** The rooms' plans, recorder statuses and cut lists. */
  desks: RecordingDesks;
  /**
   * Verifies the recorder's token (a `recorder` JWT signed with MICROSTUDIO_TOKEN_SECRET): the
   * node's own issuer, so nothing but a holder of the token secret can mint one.
   */
  issuer: TokenIssuer;
  logger: Logger;
}

/**
 * The media node's internal HTTP API for the recorder, under /internal/recorder/v1 with
 * `Authorization: Bearer <recorder token>`: a JWT of role `recorder` (exactly its grants, not
 * expired), for one room or `*`. Each route needs one grant, and only reaches rooms (and
 * recordings of rooms) the token covers: another room's recording is as unknown as a made-up id.
 * Returns false for paths it does not own.
 *
 *   GET    /rooms/:roomId/sources          the room's sources, their producers, and the plan
 *   POST   /rooms/:roomId/status           the recorder's status (RecorderStatus) → 204
 *   GET    /rooms/:roomId/cuts?after=N     the cut list after seq N → {cuts, next, oldest}
 *   POST   /recordings                      {roomId, producerId, ip, rtpPort, rtcpPort} → 201, paused
 *   GET    /recordings, /recordings/:id     state (closedReason, show-clock anchor, rtp)
 *   POST   /recordings/:id/resume           resume + keyframe; answers with the anchor
 *   POST   /recordings/:id/keyframe         204 (segment starts)
 *   DELETE /recordings/:id                  204
 */
export function createRecorderApi(
  deps: RecorderApiDeps,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const [pathPart, query] = (req.url ?? '/').split('?');
    const path = pathPart ?? '/';
    if (path !== RECORDER_API_PREFIX && !path.startsWith(`${RECORDER_API_PREFIX}/`)) return false;
    let route: string[];
    try {
      route = path.slice(RECORDER_API_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      // Malformed percent-encoding (e.g. %E0): decodeURIComponent throws URIError, which thrown
      // here (outside the promise) would be an uncaught exception that stops the node.
      reply(res, 400, { error: 'malformed percent-encoding in the path' });
      return true;
    }
    handle(deps, req, route, new URLSearchParams(query ?? '')).then(
      ({ status, body }) => reply(res, status, body),
      (error: unknown) => {
        const { status, message } = classify(error);
        if (status >= 500) deps.logger.error('recorder API failed', { path, error: message });
        reply(res, status, { error: message });
      },
    );
    return true;
  };
}

async function handle(
  deps: RecorderApiDeps,
  req: IncomingMessage,
  route: string[],
  query: URLSearchParams,
): Promise<{ status: number; body?: unknown }> {
  const claims = await verifyServiceToken(deps.issuer, bearer(req.headers.authorization), 'recorder');
  const { recordings } = deps;
  const method = req.method ?? 'GET';
  const [first, id, action, extra] = route;
  if (first === 'rooms' && id && action !== undefined && extra === undefined) {
    requireRoom(claims, id);
    const grant = ({ sources: 'sources:read', status: 'status:report', cuts: 'cuts:read' } as const)[
      action as 'sources' | 'status' | 'cuts'
    ];
    if (grant) requireGrant(claims, grant);
    const room = recordings.room(id);
    const desk = deps.desks.get(room.id);
    if (!desk) throw new ApiError(404, `room "${id}" has no recording desk (an edge node does not record)`);
    if (action === 'sources') {
      expectMethod(method, 'GET');
      const sources = room.snapshot().sources.map((s) => ({ ...s, record: desk.records(s.sourceId) }));
      return { status: 200, body: { roomId: id, sources, plan: desk.plan } };
    }
    if (action === 'status') {
      expectMethod(method, 'POST');
      desk.report(parse(recorderStatusSchema, await readJson(req)));
      return { status: 204 };
    }
    if (action === 'cuts') {
      expectMethod(method, 'GET');
      const after = Number(query.get('after') ?? '-1');
      if (!Number.isInteger(after) || after < -1) throw new ApiError(400, 'after must be an integer ≥ -1');
      return { status: 200, body: desk.cutsAfter(after) };
    }
    throw new ApiError(404, `no room route "${action.slice(0, 32)}"`);
  }
  if (first !== 'recordings' || extra !== undefined) throw new ApiError(404, 'no such recorder API route');
  requireGrant(claims, 'record');
  if (id === undefined) {
    if (method === 'GET')
      return {
        status: 200,
        body: { recordings: recordings.list().filter((r) => coversRoom(claims, r.roomId)) },
      };
    expectMethod(method, 'POST');
    const body = parse(startRecordingBody, await readJson(req));
    requireRoom(claims, body.roomId);
    return { status: 201, body: await recordings.start(body) };
  }
  inScope(claims, recordings, id);
  if (action === undefined) {
    if (method === 'GET') return { status: 200, body: recordings.get(id) };
    expectMethod(method, 'DELETE');
    recordings.stop(id);
    return { status: 204 };
  }
  expectMethod(method, 'POST');
  if (action === 'resume') return { status: 200, body: await recordings.resume(id) };
  if (action === 'keyframe') {
    await recordings.requestKeyFrame(id);
    return { status: 204 };
  }
  throw new ApiError(404, `no recording action "${action.slice(0, 32)}"`);
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** A recording of a room the token does not cover is answered as not found (no existence leak). */
function inScope(claims: TokenClaims, recordings: RecordingService, recordingId: string): void {
  if (!coversRoom(claims, recordings.get(recordingId).roomId))
    throw new NotFoundError('recording', recordingId);
}

function expectMethod(method: string, allowed: string): void {
  if (method !== allowed)
    throw new ApiError(405, `method ${method.slice(0, 16)} not allowed here (use ${allowed})`);
}

function parse<T>(schema: ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new ApiError(400, `invalid request: ${issues.join('; ')}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'body is not JSON');
  }
}

/** Refusals keep their meaning as HTTP statuses; anything unexpected is a 500. */
function classify(error: unknown): { status: number; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError) return { status: error.status, message };
  if (error instanceof ServiceTokenRefusal) return { status: error.status, message };
  if (error instanceof RefusedError) {
    const status = error.name === 'NotFoundError' ? 404 : error.name === 'BadRequestError' ? 400 : 409;
    return { status, message };
  }
  if (error instanceof Error && error.name === 'InvalidStateError') return { status: 409, message };
  if (error instanceof Error && (error.name === 'TypeError' || error.name === 'UnsupportedError'))
    return { status: 400, message };
  return { status: 500, message };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
