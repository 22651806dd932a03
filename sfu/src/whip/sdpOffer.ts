import { parse, parseParams } from 'sdp-transform';
import { z } from 'zod';
import { MalformedSdpError } from './errors.ts';

/**
 * The parts of an SDP offer the WHIP endpoint reads, checked with zod right after sdp-transform
 * (which never refuses anything). Everything not listed here is ignored.
 */
/** sdp-transform turns all-digit tokens (a ufrag such as 7090, an SSRC list of one) into numbers. */
const token = z.union([z.string(), z.number()]).transform(String);
const fingerprintSchema = z.object({ type: z.string().min(1), hash: token.pipe(z.string().min(1)) });
const mediaSchema = z.object({
  type: z.string(),
  port: z.number().int(),
  protocol: z.string(),
  payloads: token,
  mid: token.optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
  iceUfrag: token.optional(),
  icePwd: token.optional(),
  setup: z.enum(['actpass', 'active', 'passive', 'holdconn']).optional(),
  fingerprint: fingerprintSchema.optional(),
  rtp: z.array(
    z.object({
      payload: z.number().int().min(0).max(127),
      codec: z.string(),
      rate: z.number().int().optional(),
      encoding: z.union([z.string(), z.number()]).optional(),
    }),
  ),
  fmtp: z.array(z.object({ payload: z.number().int(), config: z.string() })).default([]),
  rtcpFb: z
    .array(
      z.object({
        payload: z.union([z.number(), z.string()]),
        type: z.string(),
        subtype: z.string().optional(),
      }),
    )
    .default([]),
  ext: z.array(z.object({ value: z.number().int().min(1).max(14), uri: z.string() })).default([]),
  ssrcs: z
    .array(
      z.object({
        id: z.union([z.number(), z.string()]).transform(Number),
        attribute: z.string(),
        value: token.optional(),
      }),
    )
    .default([]),
  ssrcGroups: z.array(z.object({ semantics: z.string(), ssrcs: token })).default([]),
  rtcpRsize: z.string().optional(),
});
const sessionSchema = z.object({
  version: z.literal(0),
  iceUfrag: token.optional(),
  icePwd: token.optional(),
  setup: mediaSchema.shape.setup,
  fingerprint: fingerprintSchema.optional(),
  media: z.array(z.unknown()).min(1).max(16),
});

export type OfferMedia = z.infer<typeof mediaSchema>;

export interface ParsedOffer {
  iceUfrag: string;
  icePwd: string;
  setup: 'actpass' | 'active' | 'passive';
  fingerprint: { algorithm: string; value: string };
  /** Every m-section in order (the answer has one per offered m-section). */
  media: OfferMedia[];
}

/** Reads an SDP offer; throws MalformedSdpError when a part the node needs is missing or wrong. */
export function parseOffer(text: string): ParsedOffer {
  if (!text.startsWith('v=0')) throw new MalformedSdpError('it must start with v=0');
  const session = sessionSchema.safeParse(parse(text));
  if (!session.success) throw new MalformedSdpError('no m-section or bad session lines');
  const media = session.data.media.map((m, index) => {
    const parsed = mediaSchema.safeParse(m);
    if (!parsed.success) throw new MalformedSdpError(`m-section ${index} is not valid`);
    return parsed.data;
  });
  const first = media.find((m) => m.port !== 0) ?? media[0];
  const iceUfrag = first?.iceUfrag ?? session.data.iceUfrag;
  const icePwd = first?.icePwd ?? session.data.icePwd;
  const fingerprint = first?.fingerprint ?? session.data.fingerprint;
  const setup = first?.setup ?? session.data.setup ?? 'actpass';
  if (!iceUfrag || !icePwd) throw new MalformedSdpError('no ice-ufrag/ice-pwd');
  if (!fingerprint) throw new MalformedSdpError('no DTLS fingerprint');
  if (setup === 'holdconn') throw new MalformedSdpError('a=setup:holdconn is not supported');
  if (media.some((m) => m.port !== 0 && m.mid === undefined))
    throw new MalformedSdpError('every m-section needs a=mid (RFC 9725 requires BUNDLE)');
  return {
    iceUfrag,
    icePwd,
    setup,
    fingerprint: { algorithm: fingerprint.type.toLowerCase(), value: fingerprint.hash },
    media,
  };
}

/** The a=fmtp parameters of one payload type, values as sdp-transform reads them. */
export function fmtpOf(media: OfferMedia, payload: number): Record<string, string | number> {
  const line = media.fmtp.find((f) => f.payload === payload);
  return line ? (parseParams(line.config) as Record<string, string | number>) : {};
}
