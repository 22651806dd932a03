import { z } from 'zod';
import { MAX_ID_LENGTH } from './limits.ts';

/**
 * Shapes of the mediasoup parameters that cross the wire. The node validates the outer shape
 * here (types, sizes, required fields); mediasoup validates the deep semantics and its TypeErrors
 * are answered as BAD_REQUEST. Objects are "loose": browsers add fields over time.
 */

export const idSchema = z.string().min(1).max(MAX_ID_LENGTH);

const short = z.string().max(256);

export const dtlsParametersSchema = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.looseObject({ algorithm: short, value: z.string().max(512) }))
    .min(1)
    .max(8),
});

const codecParametersSchema = z.record(z.string().max(64), z.union([z.string().max(256), z.number()]));

const rtcpFeedbackSchema = z.looseObject({ type: short, parameter: short.optional() });

export const rtpCodecParametersSchema = z.looseObject({
  mimeType: short,
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: codecParametersSchema.optional(),
  rtcpFeedback: z.array(rtcpFeedbackSchema).max(32).optional(),
});

export const rtpEncodingParametersSchema = z.looseObject({
  ssrc: z.number().int().nonnegative().optional(),
  rid: short.optional(),
  codecPayloadType: z.number().int().optional(),
  rtx: z.looseObject({ ssrc: z.number().int().nonnegative() }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: short.optional(),
  scaleResolutionDownBy: z.number().positive().optional(),
  maxBitrate: z.number().nonnegative().optional(),
});

export const rtpParametersSchema = z.looseObject({
  mid: short.optional(),
  codecs: z.array(rtpCodecParametersSchema).min(1).max(32),
  headerExtensions: z
    .array(z.looseObject({ uri: short, id: z.number().int() }))
    .max(32)
    .optional(),
  encodings: z.array(rtpEncodingParametersSchema).max(8).optional(),
  rtcp: z.looseObject({ cname: short.optional(), reducedSize: z.boolean().optional() }).optional(),
});

export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z
    .array(
      z.looseObject({
        kind: z.enum(['audio', 'video']),
        mimeType: short,
        clockRate: z.number().int().positive(),
        preferredPayloadType: z.number().int().optional(),
        channels: z.number().int().positive().optional(),
        parameters: codecParametersSchema.optional(),
        rtcpFeedback: z.array(rtcpFeedbackSchema).max(32).optional(),
      }),
    )
    .max(128)
    .optional(),
  headerExtensions: z
    .array(z.looseObject({ uri: short }))
    .max(64)
    .optional(),
});

export const mediaKindSchema = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof mediaKindSchema>;

export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;
export type RtpParameters = z.infer<typeof rtpParametersSchema>;
export type RtpCapabilities = z.infer<typeof rtpCapabilitiesSchema>;

/** What a node tells a client about a transport it created (mediasoup-client's TransportOptions). */
export const transportOptionsSchema = z.object({
  id: idSchema,
  iceParameters: z.looseObject({ usernameFragment: z.string(), password: z.string() }),
  iceCandidates: z.array(z.looseObject({ foundation: z.string(), ip: z.string(), port: z.number() })),
  dtlsParameters: dtlsParametersSchema,
});
export type TransportOptions = z.infer<typeof transportOptionsSchema>;

export const iceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;
