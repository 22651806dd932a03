import { z } from 'zod';
import { ErrorCode } from './errors.ts';
import { MAX_MESSAGE_BYTES, MAX_UPLINK_RTT_MS } from './limits.ts';
import { idSchema, mediaKindSchema, rtpParametersSchema } from './media.ts';
import { fail, type ProtocolError } from './result.ts';
import { programStateSchema, roomSnapshotSchema, trackPurposeSchema } from './room.ts';
import { payloadBytes } from './validate.ts';

/**
 * The node-to-node channel: an edge asks its site to mirror a room over a mediasoup
 * PipeTransport. It runs on the site's socket.io server in the namespace FABRIC_NAMESPACE and
 * is authenticated by the deployment's node secret in the handshake (`auth: { nodeId, secret }`).
 */
export const FABRIC_NAMESPACE = '/fabric';

/** Where one end of a pipe listens, and the SRTP key it sends with. */
export const pipeEndpointSchema = z.object({
  ip: z.string().min(1).max(64),
  port: z.number().int().min(1).max(65535),
  srtpParameters: z.object({
    cryptoSuite: z.enum([
      'AEAD_AES_256_GCM',
      'AEAD_AES_128_GCM',
      'AES_CM_128_HMAC_SHA1_80',
      'AES_CM_128_HMAC_SHA1_32',
    ]),
    keyBase64: z.string().min(16).max(256),
  }),
});
export type PipeEndpoint = z.infer<typeof pipeEndpointSchema>;

/**
 * An edge's round-trip time to its site (MAX_UPLINK_RTT_MS). Absent while the uplink is down or
 * not yet measured, and on a site.
 */
export const uplinkRttMsSchema = z.number().nonnegative().max(MAX_UPLINK_RTT_MS);
export const uplinkRttSchema = z.object({
  /** Smoothed round-trip time (moving average of the probes). */
  uplinkRttMs: uplinkRttMsSchema.optional(),
  /** 95th percentile of the recent probes. */
  uplinkRttP95Ms: uplinkRttMsSchema.optional(),
});
export type UplinkRtt = z.infer<typeof uplinkRttSchema>;

const empty = z.object({}).strict();

export const nodeRequests = {
  /** Open (or re-open after a reconnect) the mirror of a room: the site's end of the pipe. */
  'mirror:open': {
    request: z.object({ roomId: idSchema }),
    response: z.object({
      pipeId: idSchema,
      site: pipeEndpointSchema,
      room: roomSnapshotSchema,
    }),
  },
  /** The edge's end of the pipe: the site sends RTP there. */
  'mirror:connect': {
    request: z.object({ pipeId: idSchema, edge: pipeEndpointSchema }),
    response: empty,
  },
  /** Pipe one producer of the room (idempotent): the edge produces with these parameters. */
  'mirror:consume': {
    request: z.object({ pipeId: idSchema, producerId: idSchema }),
    response: z.object({
      producerId: idSchema,
      kind: mediaKindSchema,
      purpose: trackPurposeSchema,
      rtpParameters: rtpParametersSchema,
      paused: z.boolean(),
    }),
  },
  /** Stop piping one producer. */
  'mirror:unconsume': {
    request: z.object({ pipeId: idSchema, producerId: idSchema }),
    response: empty,
  },
  /** The edge has no viewers left for this room: close the pipe. */
  'mirror:close': { request: z.object({ pipeId: idSchema }), response: empty },
  /** Liveness of the uplink, measured by the edge. */
  'node:ping': { request: empty, response: z.object({ at: z.number() }) },
} as const;

export const nodeNotifications = {
  /** The mirrored room's sources changed (producer ids are the site's; pipes keep them). */
  'mirror:room': z.object({ pipeId: idSchema, room: roomSnapshotSchema }),
  'mirror:program': z.object({ pipeId: idSchema, program: programStateSchema }),
  /** A piped producer closed, paused or resumed at the site. */
  'mirror:producer': z.object({
    pipeId: idSchema,
    producerId: idSchema,
    event: z.enum(['close', 'pause', 'resume']),
  }),
  /** The site closed this pipe (its room closed, or another connection of this node replaced it). */
  'mirror:closed': z.object({ pipeId: idSchema, reason: z.string().max(200) }),
} as const;

export type NodeRequestName = keyof typeof nodeRequests;
export type NodeRequestOf<N extends NodeRequestName> = z.infer<(typeof nodeRequests)[N]['request']>;
export type NodeResponseOf<N extends NodeRequestName> = z.infer<(typeof nodeRequests)[N]['response']>;
export type NodeNotificationName = keyof typeof nodeNotifications;
export type NodeNotificationOf<N extends NodeNotificationName> = z.infer<(typeof nodeNotifications)[N]>;

export function isNodeRequestName(name: string): name is NodeRequestName {
  return Object.hasOwn(nodeRequests, name);
}

export type ValidatedNodeRequest =
  | { ok: true; name: NodeRequestName; payload: NodeRequestOf<NodeRequestName> }
  | { ok: false; error: ProtocolError };

/** The node channel's boundary check: known event, size, schema (as validateRequest). */
export function validateNodeRequest(name: string, payload: unknown): ValidatedNodeRequest {
  if (!isNodeRequestName(name)) return fail(ErrorCode.UnknownEvent, `unknown event "${name.slice(0, 64)}"`);
  const bytes = payloadBytes(payload);
  if (bytes > MAX_MESSAGE_BYTES)
    return fail(ErrorCode.MessageTooLarge, `payload of ${bytes} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  const parsed = nodeRequests[name].request.safeParse(payload);
  if (!parsed.success) {
    const why = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
      .join('; ');
    return fail(ErrorCode.BadRequest, `invalid ${name}: ${why}`);
  }
  return { ok: true, name, payload: parsed.data as NodeRequestOf<NodeRequestName> };
}
