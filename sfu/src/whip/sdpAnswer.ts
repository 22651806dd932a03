import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import { type MediaAttributes, type MediaDescription, type SessionDescription, write } from 'sdp-transform';
import type { AcceptedMedia } from './offerMapping.ts';
import type { OfferMedia, ParsedOffer } from './sdpOffer.ts';

export interface AnswerTransport {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

function candidatesOf(transport: AnswerTransport): NonNullable<MediaAttributes['candidates']> {
  return transport.iceCandidates.map((c) => ({
    foundation: c.foundation,
    component: 1,
    transport: c.protocol,
    priority: c.priority,
    ip: c.address,
    port: c.port,
    type: c.type,
    ...(c.tcpType ? { tcptype: c.tcpType } : {}),
  }));
}

function rejected(media: OfferMedia): MediaDescription {
  const firstPayload = media.payloads.split(' ')[0] ?? '0';
  return {
    type: media.type,
    port: 0,
    protocol: media.protocol,
    payloads: firstPayload,
    ...(media.mid !== undefined ? { mid: media.mid } : {}),
    direction: 'inactive',
    rtp: media.rtp.filter((r) => String(r.payload) === firstPayload),
    fmtp: [],
  } as MediaDescription;
}

/**
 * The SDP answer to a WHIP offer: ICE lite (mediasoup), our DTLS fingerprint, one m-section per
 * offered one (rejected ones with port 0), accepted m-sections recvonly with the offer's payload
 * types, header-extension ids and RTCP feedback for the chosen codec.
 */
export function buildAnswer(
  offer: ParsedOffer,
  accepted: Map<OfferMedia, AcceptedMedia>,
  transport: AnswerTransport,
  setup: 'active' | 'passive',
): string {
  const fingerprint =
    transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ??
    transport.dtlsParameters.fingerprints[0];
  if (!fingerprint) throw new Error('transport has no DTLS fingerprint');
  const candidates = candidatesOf(transport);
  const bundled = [...accepted.values()].map((a) => a.mid);
  const media = offer.media.map((m): MediaDescription => {
    const ok = accepted.get(m);
    if (!ok) return rejected(m);
    const codecs = ok.rtpParameters.codecs;
    return {
      type: m.type,
      port: 9,
      protocol: 'UDP/TLS/RTP/SAVPF',
      payloads: ok.payloadTypes.join(' '),
      connection: { version: 4, ip: '0.0.0.0' },
      mid: ok.mid,
      direction: 'recvonly',
      iceUfrag: transport.iceParameters.usernameFragment,
      icePwd: transport.iceParameters.password,
      setup,
      rtcpMux: 'rtcp-mux',
      ...(ok.rtpParameters.rtcp?.reducedSize ? { rtcpRsize: 'rtcp-rsize' } : {}),
      rtp: m.rtp
        .filter((r) => ok.payloadTypes.includes(r.payload))
        .map((r) => ({
          payload: r.payload,
          codec: r.codec,
          ...(r.rate ? { rate: r.rate } : {}),
          ...(r.encoding !== undefined ? { encoding: Number(r.encoding) } : {}),
        })),
      fmtp: m.fmtp.filter((f) => ok.payloadTypes.includes(f.payload)),
      rtcpFb: codecs.flatMap((c) =>
        (c.rtcpFeedback ?? []).map((fb) => ({
          payload: c.payloadType,
          type: fb.type,
          ...(fb.parameter ? { subtype: fb.parameter } : {}),
        })),
      ),
      ext: ok.headerExtensions.map((h) => ({ value: h.id, uri: h.uri })),
      candidates,
      endOfCandidates: 'end-of-candidates',
    } as MediaDescription;
  });
  const session: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: randomInt(1, 2 ** 47),
      sessionVersion: 1,
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    groups: [{ type: 'BUNDLE', mids: bundled.join(' ') }],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  } as SessionDescription;
  return write(session);
}
