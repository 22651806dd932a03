import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { type MediaDescription, parse, write } from 'sdp-transform';
import type { AcceptedMedia } from '../whip/offerMapping.ts';
import { type AnswerTransport, buildAnswer } from '../whip/sdpAnswer.ts';
import type { OfferMedia, ParsedOffer } from '../whip/sdpOffer.ts';

/** One m-section the node sends on, with the consumer that feeds it. */
export interface SendingMedia {
  media: OfferMedia;
  consumer: types.Consumer;
}

function isRtx(codec: types.RtpCodecParameters): boolean {
  return codec.mimeType.toLowerCase().endsWith('/rtx');
}

/**
 * The SDP answer to a WHEP offer. The WHIP answer builder writes the m-sections (ICE lite, our
 * fingerprint and candidates, the player's payload types and header-extension ids, rejected
 * sections with port 0); then each sending m-section becomes `sendonly` and announces its one
 * SSRC, which never changes for the session: players that demultiplex by SSRC (and those that
 * cannot follow an SSRC change without renegotiating) keep playing across cuts.
 */
export function buildWhepAnswer(
  offer: ParsedOffer,
  sending: SendingMedia[],
  transport: AnswerTransport,
  setup: 'active' | 'passive',
): string {
  const accepted = new Map<OfferMedia, AcceptedMedia>();
  for (const { media, consumer } of sending) {
    const { rtpParameters } = consumer;
    const codecs = rtpParameters.codecs.filter((c) => !isRtx(c));
    const headerExtensions = (rtpParameters.headerExtensions ?? []).map((h) => ({ id: h.id, uri: h.uri }));
    accepted.set(media, {
      kind: consumer.kind,
      mid: String(media.mid),
      payloadTypes: codecs.map((c) => c.payloadType),
      headerExtensions,
      rtpParameters: {
        ...rtpParameters,
        codecs,
        rtcp: { ...rtpParameters.rtcp, reducedSize: media.rtcpRsize !== undefined },
      },
    });
  }
  const session = parse(buildAnswer(offer, accepted, transport, setup));
  const streamId = randomUUID();
  session.media = session.media.map((m, index): MediaDescription => {
    const sent = sending.find((s) => s.media === offer.media[index]);
    if (!sent) return m;
    const ssrc = sent.consumer.rtpParameters.encodings?.[0]?.ssrc;
    const cname = sent.consumer.rtpParameters.rtcp?.cname ?? streamId;
    const trackId = `${sent.consumer.kind}-${sent.consumer.id}`;
    return {
      ...m,
      direction: 'sendonly',
      msid: [{ id: streamId, appdata: trackId }],
      ...(ssrc !== undefined
        ? {
            ssrcs: [
              { id: ssrc, attribute: 'cname', value: cname },
              { id: ssrc, attribute: 'msid', value: `${streamId} ${trackId}` },
            ],
          }
        : {}),
    };
  });
  return write(session);
}
