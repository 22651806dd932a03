import type { types } from 'mediasoup';
import { fmtpOf, type OfferMedia } from './sdpOffer.ts';

/** RTCP feedback the node's producers take part in (mediasoup's supported set). */
const SUPPORTED_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

/** One accepted m-section: what mediasoup produces and what the answer echoes. */
export interface AcceptedMedia {
  kind: types.MediaKind;
  mid: string;
  rtpParameters: types.RtpParameters;
  /** The offer's payload types kept in the answer (primary codec, then its RTX). */
  payloadTypes: number[];
  headerExtensions: { id: number; uri: string }[];
}

interface Chosen {
  payloadType: number;
  codec: types.RtpCodecParameters;
}

/**
 * H.264 profile-level-id → the profile the router lists for it. The router offers constrained
 * baseline (42e01f) and main (4d0032). Baseline (42 00 xx) is relabelled constrained baseline and
 * High (64 xx xx) is relabelled main: hardware encoders (and OBS, whose WHIP output always
 * signals 42e01f) emit these, and mediasoup forwards the bitstream untouched. The level byte is
 * kept. Other profiles (High 10, 4:2:2, …) are not accepted.
 */
export function routerH264ProfileFor(profileLevelId: string): string | undefined {
  if (!/^[0-9a-f]{6}$/i.test(profileLevelId)) return undefined;
  const profileIdc = profileLevelId.slice(0, 2).toLowerCase();
  const iop = Number.parseInt(profileLevelId.slice(2, 4), 16);
  const level = profileLevelId.slice(4, 6).toLowerCase();
  // constraint_set0_flag (0x80): a Main stream that also obeys Baseline's constraints is
  // constrained baseline (RFC 6184 §8.1: 4d80xx / 4dc0xx); ordinary Main (4d40xx, 4d00xx) stays Main.
  const constrainedSet0 = (iop & 0x80) !== 0;
  if (profileIdc === '42') return `42e0${level}`;
  if (profileIdc === '4d') return constrainedSet0 ? `42e0${level}` : `4d00${level}`;
  if (profileIdc === '64') return `4d00${level}`;
  return undefined;
}

function feedbackFor(media: OfferMedia, payload: number): types.RtcpFeedback[] {
  return media.rtcpFb
    .filter((fb) => String(fb.payload) === String(payload) || fb.payload === '*')
    .filter((fb) => SUPPORTED_FEEDBACK.has(fb.subtype ? `${fb.type} ${fb.subtype}` : fb.type))
    .map((fb) => (fb.subtype ? { type: fb.type, parameter: fb.subtype } : { type: fb.type }));
}

/** The first offered codec (in the offer's order of preference) the node accepts for this kind. */
function chooseCodec(media: OfferMedia, kind: types.MediaKind): Chosen | undefined {
  const order = media.payloads.split(' ').map(Number);
  const entries = [...media.rtp].sort((a, b) => order.indexOf(a.payload) - order.indexOf(b.payload));
  for (const entry of entries) {
    const name = entry.codec.toLowerCase();
    const rtcpFeedback = feedbackFor(media, entry.payload);
    const params = fmtpOf(media, entry.payload);
    if (kind === 'audio' && name === 'opus' && entry.rate === 48000) {
      const parameters: Record<string, string | number> = {};
      for (const key of ['minptime', 'useinbandfec', 'usedtx', 'stereo', 'sprop-stereo'] as const)
        if (params[key] !== undefined) parameters[key] = params[key];
      return {
        payloadType: entry.payload,
        codec: {
          mimeType: 'audio/opus',
          payloadType: entry.payload,
          clockRate: 48000,
          channels: 2,
          parameters,
          rtcpFeedback,
        },
      };
    }
    if (kind === 'video' && name === 'vp8' && entry.rate === 90000) {
      return {
        payloadType: entry.payload,
        codec: {
          mimeType: 'video/VP8',
          payloadType: entry.payload,
          clockRate: 90000,
          parameters: {},
          rtcpFeedback,
        },
      };
    }
    if (kind === 'video' && name === 'h264' && entry.rate === 90000) {
      if (Number(params['packetization-mode'] ?? 0) !== 1) continue;
      // sdp-transform turns an all-digit id such as 640032 into a number.
      const profile = routerH264ProfileFor(String(params['profile-level-id'] ?? '42001f'));
      if (!profile) continue;
      return {
        payloadType: entry.payload,
        codec: {
          mimeType: 'video/H264',
          payloadType: entry.payload,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': profile, 'level-asymmetry-allowed': 1 },
          rtcpFeedback,
        },
      };
    }
  }
  return undefined;
}

function rtxFor(media: OfferMedia, primary: number): number | undefined {
  for (const entry of media.rtp) {
    if (entry.codec.toLowerCase() !== 'rtx') continue;
    if (Number(fmtpOf(media, entry.payload).apt) === primary) return entry.payload;
  }
  return undefined;
}

/** The SSRCs the offer announces for this m-section: primary and RTX (a=ssrc-group:FID). */
function ssrcsOf(media: OfferMedia): { ssrc?: number; rtxSsrc?: number; cname?: string } {
  const cname = media.ssrcs.find((s) => s.attribute === 'cname')?.value;
  const fid = media.ssrcGroups.find((g) => g.semantics === 'FID');
  if (fid) {
    const [ssrc, rtxSsrc] = fid.ssrcs.split(' ').map(Number);
    return { ssrc, rtxSsrc, ...(cname ? { cname } : {}) };
  }
  const first = media.ssrcs[0]?.id;
  return { ...(first !== undefined ? { ssrc: first } : {}), ...(cname ? { cname } : {}) };
}

/**
 * Maps one offered m-section to mediasoup producer parameters, or undefined when the node rejects
 * it (not audio/video, not sending, or no accepted codec).
 */
export function mapOfferMedia(media: OfferMedia, router: types.RtpCapabilities): AcceptedMedia | undefined {
  if (media.port === 0 || media.mid === undefined) return undefined;
  if (media.type !== 'audio' && media.type !== 'video') return undefined;
  if (media.direction === 'recvonly' || media.direction === 'inactive') return undefined;
  const kind: types.MediaKind = media.type;
  const chosen = chooseCodec(media, kind);
  if (!chosen) return undefined;
  const codecs: types.RtpCodecParameters[] = [chosen.codec];
  const payloadTypes = [chosen.payloadType];
  const { ssrc, rtxSsrc, cname } = ssrcsOf(media);
  const rtx = kind === 'video' ? rtxFor(media, chosen.payloadType) : undefined;
  const useRtx = rtx !== undefined && rtxSsrc !== undefined;
  if (useRtx) {
    codecs.push({
      mimeType: 'video/rtx',
      payloadType: rtx,
      clockRate: 90000,
      parameters: { apt: chosen.payloadType },
    });
    payloadTypes.push(rtx);
  }
  const supportedUris = new Set(
    (router.headerExtensions ?? []).filter((h) => h.kind === kind).map((h) => h.uri as string),
  );
  const headerExtensions = media.ext
    .filter((e) => supportedUris.has(e.uri))
    .map((e) => ({ id: e.value, uri: e.uri }));
  const encoding: types.RtpEncodingParameters = {};
  if (ssrc !== undefined) encoding.ssrc = ssrc;
  if (useRtx) encoding.rtx = { ssrc: rtxSsrc };
  return {
    kind,
    mid: media.mid,
    payloadTypes,
    headerExtensions,
    rtpParameters: {
      mid: media.mid,
      codecs,
      headerExtensions: headerExtensions.map((h) => ({
        uri: h.uri as types.RtpHeaderExtensionUri,
        id: h.id,
      })),
      encodings: [encoding],
      rtcp: { ...(cname ? { cname } : {}), reducedSize: media.rtcpRsize !== undefined },
    },
  };
}
