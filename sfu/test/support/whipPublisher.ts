import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  type RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  useH264,
  useNACK,
  useOPUS,
  usePLI,
} from 'werift';

/**
 * werift (an independent WebRTC stack) as a WHIP encoder: H.264 + Opus, sendonly. `video`
 * replaces the video codec it offers (VP8, H.264 High…); H.264 constrained baseline otherwise.
 */
export async function wherift(
  interfaceAddress = '127.0.0.1',
  options: { video?: RTCRtpCodecParameters } = {},
): Promise<{
  pc: RTCPeerConnection;
  offer: string;
  video: MediaStreamTrack;
  audio: MediaStreamTrack;
}> {
  const pc = new RTCPeerConnection({
    // Loopback only, no STUN: nothing leaves the box and no socket outlives close().
    iceUseIpv6: false,
    iceServers: [],
    iceInterfaceAddresses: { udp4: interfaceAddress },
    codecs: {
      video: [options.video ?? useH264({ rtcpFeedback: [useNACK(), usePLI()] })],
      audio: [useOPUS()],
    },
  });
  const video = new MediaStreamTrack({ kind: 'video' });
  const audio = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(video, { direction: 'sendonly' });
  pc.addTransceiver(audio, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  // Non-trickle WHIP: wait for gathering so the offer carries every candidate.
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve();
      });
    });
  }
  const offer = pc.localDescription?.sdp;
  if (!offer) throw new Error('werift made no offer');
  return { pc, offer, video, audio };
}

/** Every UDP socket created in this process (werift's: tests use no other dgram sockets here). */
const weriftSockets: dgram.Socket[] = [];
const createSocket = dgram.createSocket;
dgram.createSocket = ((...args: Parameters<typeof createSocket>) => {
  const socket = createSocket(...args);
  weriftSockets.push(socket);
  return socket;
}) as typeof createSocket;
// werift's ESM build imports createSocket by name: refresh the builtin's named exports.
syncBuiltinESMExports();

/** werift 0.25.2 leaves a connected peer's UDP socket open after close(): close what is left. */
export function closeLeftoverWeriftSockets(): void {
  for (const socket of weriftSockets.splice(0)) {
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Feeds RTP as an encoder would: 30 fps H.264 with a keyframe each second — SPS and PPS packets
 * before the IDR slice, which is what mediasoup (and decoders) take as a keyframe — and an Opus
 * frame every 20 ms. `mark` tells sources apart at a receiver: it fills the slices (0x5a by
 * default) and, when given, ends each Opus payload.
 */
export function feed(
  video: MediaStreamTrack,
  audio: MediaStreamTrack,
  options: { mark?: number } = {},
): () => void {
  let vSeq = 0;
  let frame = 0;
  let aSeq = 0;
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const fill = options.mark ?? 0x5a;
  const idr = Buffer.concat([Buffer.from([0x65, 0x88, 0x84]), Buffer.alloc(300, fill)]);
  const slice = Buffer.concat([Buffer.from([0x41, 0x9a, 0x02]), Buffer.alloc(120, fill)]);
  const opus = Buffer.from([0xf8, 0xff, 0xfe, ...(options.mark === undefined ? [] : [options.mark])]);
  const send = (payload: Buffer, timestamp: number, marker: boolean) => {
    vSeq++;
    video.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: 96, sequenceNumber: vSeq & 0xffff, timestamp, marker }),
        payload,
      ),
    );
  };
  const v = setInterval(() => {
    const timestamp = frame * 3000;
    if (frame % 30 === 0) {
      send(sps, timestamp, false);
      send(pps, timestamp, false);
      send(idr, timestamp, true);
    } else {
      send(slice, timestamp, true);
    }
    frame++;
  }, 33);
  const a = setInterval(() => {
    aSeq++;
    audio.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: 111, sequenceNumber: aSeq & 0xffff, timestamp: aSeq * 960 }),
        opus,
      ),
    );
  }, 20);
  return () => {
    clearInterval(v);
    clearInterval(a);
  };
}
