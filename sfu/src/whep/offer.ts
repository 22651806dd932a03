import type { types } from 'mediasoup';
import { routerH264ProfileFor } from '../whip/offerMapping.ts';
import { fmtpOf, type OfferMedia, type ParsedOffer } from '../whip/sdpOffer.ts';

/** What the program relay sends: one codec per stream (see ProgramRelay). */
export type RelayMime = 'audio/opus' | 'video/vp8' | 'video/h264';

/**
 * The H.264 parameters every relayed H.264 stream declares. Sources may be constrained baseline
 * or main (what the routers accept); the bitstream is forwarded untouched and its SPS tells the
 * decoder the real profile, so the declaration is the one every WHEP player can receive.
 */
export const RELAY_H264_PARAMETERS = {
  'packetization-mode': 1,
  'profile-level-id': '42e01f',
  'level-asymmetry-allowed': 1,
} as const;

/** RTCP feedback a consumer takes part in (mediasoup drops what its transport cannot do). */
const SUPPORTED_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

/** One codec a player offers to receive, in the node's terms. */
export interface OfferedCodec {
  mime: RelayMime;
  /** The player's payload type for it: the answer and the RTP must use this one. */
  payloadType: number;
  rtcpFeedback: types.RtcpFeedback[];
}

/** An offered m-section the node will send on: its kind, its mid and the codecs it can take. */
export interface WantedMedia {
  media: OfferMedia;
  kind: types.MediaKind;
  mid: string;
  /** Receivable codecs in the offer's order of preference (at least one). */
  codecs: OfferedCodec[];
}

function feedbackFor(media: OfferMedia, payload: number): types.RtcpFeedback[] {
  return media.rtcpFb
    .filter((fb) => String(fb.payload) === String(payload) || fb.payload === '*')
    .filter((fb) => SUPPORTED_FEEDBACK.has(fb.subtype ? `${fb.type} ${fb.subtype}` : fb.type))
    .map((fb) => (fb.subtype ? { type: fb.type, parameter: fb.subtype } : { type: fb.type }));
}

function mimeOf(media: OfferMedia, entry: OfferMedia['rtp'][number]): RelayMime | undefined {
  const name = entry.codec.toLowerCase();
  if (media.type === 'audio' && name === 'opus' && entry.rate === 48000) return 'audio/opus';
  if (media.type !== 'video' || entry.rate !== 90000) return undefined;
  if (name === 'vp8') return 'video/vp8';
  if (name !== 'h264') return undefined;
  const params = fmtpOf(media, entry.payload);
  if (Number(params['packetization-mode'] ?? 0) !== 1) return undefined;
  // sdp-transform turns an all-digit id such as 640032 into a number.
  return routerH264ProfileFor(String(params['profile-level-id'] ?? '42001f')) ? 'video/h264' : undefined;
}

/** The receivable codecs of one m-section (first payload type per codec, offer order). */
function receivableCodecs(media: OfferMedia): OfferedCodec[] {
  const order = media.payloads.split(' ').map(Number);
  const entries = [...media.rtp].sort((a, b) => order.indexOf(a.payload) - order.indexOf(b.payload));
  const codecs: OfferedCodec[] = [];
  for (const entry of entries) {
    const mime = mimeOf(media, entry);
    if (!mime || codecs.some((c) => c.mime === mime)) continue;
    codecs.push({ mime, payloadType: entry.payload, rtcpFeedback: feedbackFor(media, entry.payload) });
  }
  return codecs;
}

/**
 * The m-sections of a WHEP offer the node sends on: the first audio and the first video one that
 * want to receive (recvonly, or sendrecv — the node only sends) a codec the node relays. Others
 * are answered as rejected (port 0).
 */
export function readWhepOffer(offer: ParsedOffer): WantedMedia[] {
  const wanted: WantedMedia[] = [];
  for (const media of offer.media) {
    if (media.port === 0 || media.mid === undefined) continue;
    if (media.type !== 'audio' && media.type !== 'video') continue;
    if (media.direction === 'sendonly' || media.direction === 'inactive') continue;
    const kind: types.MediaKind = media.type;
    if (wanted.some((w) => w.kind === kind)) continue;
    const codecs = receivableCodecs(media);
    if (codecs.length > 0) wanted.push({ media, kind, mid: media.mid, codecs });
  }
  return wanted;
}

/** The codec a relay producer declares, and the one its egress router offers (PT aside). */
export function relayCodec(mime: RelayMime): {
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
} {
  switch (mime) {
    case 'audio/opus':
      return { mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: {} };
    case 'video/vp8':
      return { mimeType: 'video/VP8', clockRate: 90000, parameters: {} };
    case 'video/h264':
      return { mimeType: 'video/H264', clockRate: 90000, parameters: { ...RELAY_H264_PARAMETERS } };
  }
}

/**
 * What a player can receive on one m-section, as mediasoup consumer capabilities: the chosen
 * codec under the player's payload type (its egress router uses the same one), and the header
 * extensions under the player's ids (mediasoup keeps those whose id matches the router's).
 */
export function consumerCapabilities(
  wanted: WantedMedia,
  codec: OfferedCodec,
  routerExtensions: types.RtpHeaderExtension[],
): types.RtpCapabilities {
  const known = new Set(routerExtensions.filter((h) => h.kind === wanted.kind).map((h) => h.uri as string));
  return {
    codecs: [
      {
        kind: wanted.kind,
        preferredPayloadType: codec.payloadType,
        rtcpFeedback: codec.rtcpFeedback,
        ...relayCodec(codec.mime),
      } as types.RtpCodecCapability,
    ],
    headerExtensions: wanted.media.ext
      .filter((e) => known.has(e.uri))
      .map((e) => ({
        kind: wanted.kind,
        uri: e.uri as types.RtpHeaderExtensionUri,
        preferredId: e.value,
        preferredEncrypt: false,
        direction: 'sendrecv' as const,
      })),
  };
}
