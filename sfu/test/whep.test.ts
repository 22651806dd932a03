import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '@microstudio/auth';
import { type MediaStreamTrack, RTCPeerConnection, useH264, useNACK, useOPUS, usePLI } from 'werift';
import { LocalFabric } from '../src/fabric/LocalFabric.ts';
import { silentLogger } from '../src/log.ts';
import type { MediaNode } from '../src/node.ts';
import {
  isRtcp,
  isRtp,
  keyFrameRequests,
  readRtp,
  rewriteRtp,
  senderReport,
  senderReports,
  seqAfter,
} from '../src/whep/rtp.ts';
import { WhepService } from '../src/whep/WhepService.ts';
import { createWhepHandler } from '../src/whep/whepHttp.ts';
import { type Joined, joinAs, must, sleep, startTestNode, TEST_TOKEN_SECRET, tokenFor } from './helpers.ts';
import { type FfmpegVideo, ffmpegVideoInto } from './support/ffmpegVideo.ts';
import { decodeH264, depacketizeH264 } from './support/h264Decode.ts';
import { checkPatch, SDPFRAG } from './support/icePatch.ts';
import { closeLeftoverWeriftSockets, feed, wherift } from './support/whipPublisher.ts';

const MARK_A = 0xa1;
const MARK_B = 0xb2;

/**
 * What Chrome offers as a WHEP player: VP8 first, H.264 in several variants (one of them
 * packetization-mode 0), RTX, RED, and header-extension ids that differ from the router's.
 */
const chromeLikeOffer = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901',
  'a=fingerprint:sha-256 E5:F5:CA:A7:2D:93:E6:16:AC:21:09:9F:23:51:62:8C:D0:66:E9:0C:22:54:2B:82:0C:DF:E0:C5:2C:7E:CD:53',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 127 125 104',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901',
  'a=fingerprint:sha-256 E5:F5:CA:A7:2D:93:E6:16:AC:21:09:9F:23:51:62:8C:D0:66:E9:0C:22:54:2B:82:0C:DF:E0:C5:2C:7E:CD:53',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:127 H264/90000',
  'a=rtcp-fb:127 nack',
  'a=rtcp-fb:127 nack pli',
  'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 goog-remb',
  'a=rtcp-fb:102 transport-cc',
  'a=rtcp-fb:102 ccm fir',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:125 H264/90000',
  'a=fmtp:125 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:104 AV1/90000',
  '',
].join('\r\n');

/** One RTP packet as the player received it. */
interface Received {
  ssrc: number;
  seq: number;
  ts: number;
  marker: boolean;
  /** H.264 NAL unit type (video) — 7 is the SPS a key frame starts with. */
  nal: number;
  /** The last payload byte: the source's mark (slices and Opus frames). */
  mark: number;
  /** The RTP payload itself (for depacketizing and decoding). */
  payload: Buffer;
}

interface Player {
  pc: RTCPeerConnection;
  offer: string;
  video: Received[];
  audio: Received[];
  connected: Promise<void>;
}

/**
 * A WHEP player that is not our code: werift, recvonly H.264 + Opus, non-trickle (the offer
 * carries every candidate). Records every RTP packet its two tracks receive.
 */
async function wherep(): Promise<Player> {
  const pc = new RTCPeerConnection({
    iceUseIpv6: false,
    iceServers: [],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    codecs: {
      video: [useH264({ rtcpFeedback: [useNACK(), usePLI()] })],
      audio: [useOPUS()],
    },
  });
  const video: Received[] = [];
  const audio: Received[] = [];
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      const payload = rtp.payload;
      (track.kind === 'video' ? video : audio).push({
        ssrc: rtp.header.ssrc,
        seq: rtp.header.sequenceNumber,
        ts: rtp.header.timestamp,
        marker: rtp.header.marker,
        nal: (payload[0] ?? 0) & 0x1f,
        mark: payload[payload.length - 1] ?? -1,
        payload,
      });
    });
  });
  const connected = new Promise<void>((resolve) => {
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') resolve();
    });
  });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve();
      });
    });
  }
  const offer = pc.localDescription?.sdp;
  if (!offer) throw new Error('werift made no offer');
  return { pc, offer, video, audio, connected };
}

interface Posted {
  status: number;
  body: string;
  headers: Headers;
}

async function post(
  url: string,
  sdp: string,
  token: string | undefined,
  contentType = 'application/sdp',
): Promise<Posted> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: sdp,
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function remove(node: MediaNode, location: string, token: string): Promise<number> {
  const res = await fetch(`${node.url}${location}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  await res.text();
  return res.status;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A WHIP encoder (werift) publishing H.264 + Opus whose payloads carry `mark`. */
async function publish(node: MediaNode, roomId: string, name: string, mark: number) {
  const encoder = await wherift();
  const token = await tokenFor(node, roomId, 'camera');
  const posted = await post(
    `${node.url}/whip/${roomId}?name=${encodeURIComponent(name)}`,
    encoder.offer,
    token,
  );
  assert.equal(posted.status, 201, posted.body);
  const sourceId = (posted.headers.get('location') ?? '').split('/').pop() ?? '';
  const connected = new Promise<void>((resolve) => {
    encoder.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') resolve();
    });
  });
  await encoder.pc.setRemoteDescription({ type: 'answer', sdp: posted.body });
  await connected;
  const stop = feed(encoder.video, encoder.audio, { mark });
  return {
    sourceId,
    close: async () => {
      stop();
      await encoder.pc.close();
    },
  };
}

/** Connects a player with an answer; returns it connected. */
async function connectPlayer(player: Player, answer: string): Promise<void> {
  await player.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await player.connected;
}

const count = (packets: Received[], mark: number) => packets.filter((p) => p.mark === mark).length;
const frames = (packets: Received[], mark: number) =>
  packets.filter((p) => p.mark === mark && p.marker).length;

/**
 * Checks one track's packets across a cut from `from` to `to`: one SSRC, sequence numbers
 * without a gap, timestamps moving forward, and a clean switch that starts on a key frame.
 */
function assertCleanCut(packets: Received[], kind: 'video' | 'audio', from: number, to: number): void {
  assert.equal(new Set(packets.map((p) => p.ssrc)).size, 1, `${kind}: one SSRC from start to end`);
  for (let i = 1; i < packets.length; i++) {
    // 1 on loopback; a few more would be a lost packet, never a jump or a restart.
    const step = ((packets[i]?.seq ?? 0) - (packets[i - 1]?.seq ?? 0)) & 0xffff;
    assert.ok(step >= 1 && step <= 3, `${kind}: sequence numbers continue across the cut (${i}: +${step})`);
  }
  const withMark = packets.map((p, i) => ({ ...p, i })).filter((p) => p.mark === from || p.mark === to);
  const lastFrom = withMark.findLast((p) => p.mark === from);
  const firstTo = withMark.find((p) => p.mark === to);
  assert.ok(lastFrom && firstTo, `${kind}: both sources were played`);
  assert.ok(lastFrom.i < firstTo.i, `${kind}: the old source stops before the new one plays (no mixing)`);
  const tsStep = (firstTo.ts - lastFrom.ts) >>> 0;
  const clock = kind === 'video' ? 90_000 : 48_000;
  assert.ok(tsStep > 0 && tsStep < clock, `${kind}: the timestamp moves forward across the cut (${tsStep})`);
  if (kind === 'video') {
    // The new source starts on its key frame: SPS right after the old source's last packet.
    assert.equal(packets[lastFrom.i + 1]?.nal, 7, 'video: the cut lands on a key frame (SPS first)');
  }
}

describe('WHEP playback at a site', () => {
  let node: MediaNode;
  const roomId = 'whep-show';
  let director: Joined;
  let camA: Awaited<ReturnType<typeof publish>>;
  let camB: Awaited<ReturnType<typeof publish>>;

  before(async () => {
    node = await startTestNode({ MICROSTUDIO_MAX_PEERS_PER_ROOM: '8' });
    director = await joinAs(node, roomId, 'director', 'dir-1');
    camA = await publish(node, roomId, 'Cam A', MARK_A);
    camB = await publish(node, roomId, 'Cam B', MARK_B);
    await must(director.socket, 'program:preview', { sourceId: camA.sourceId });
    await must(director.socket, 'program:cut', {});
  });

  after(async () => {
    await camA?.close();
    await camB?.close();
    director?.socket.close();
    await node?.close();
    closeLeftoverWeriftSockets();
  });

  /** Everything a session holds, so its end (or its refusal) can be checked. */
  function counts() {
    const room = node.registry.get(roomId);
    const peers = room?.peers() ?? [];
    return {
      peers: peers.length,
      transports: peers.reduce((n, p) => n + p.transports.size, 0),
      consumers: peers.reduce((n, p) => n + p.consumers.size, 0),
      sessions: node.whep.size,
      relay: room ? node.whep.relay(room) !== undefined : false,
    };
  }

  it('plays the program to an independent player and follows a cut without renegotiation', async () => {
    const before = counts();
    const player = await wherep();
    const token = await tokenFor(node, roomId, 'viewer');
    try {
      const posted = await post(`${node.url}/whep/${roomId}`, player.offer, token);
      assert.equal(posted.status, 201, posted.body);
      assert.equal(posted.headers.get('content-type'), 'application/sdp');
      assert.match(posted.headers.get('etag') ?? '', /^".+"$/);
      const location = posted.headers.get('location') ?? '';
      assert.match(location, /^\/whep\/whep-show\/[0-9a-f-]{36}$/);
      assert.match(posted.body, /a=ice-lite/);
      assert.match(posted.body, /a=sendonly/);
      assert.doesNotMatch(posted.body, /a=recvonly/);
      assert.equal(posted.body.match(/a=ssrc:\d+ cname:/g)?.length, 2, 'one SSRC per m-section');
      // The answer keeps the player's payload types.
      const offeredH264 = /a=rtpmap:(\d+) H264\/90000/.exec(player.offer)?.[1];
      const offeredOpus = /a=rtpmap:(\d+) opus\/48000\/2/i.exec(player.offer)?.[1];
      assert.match(posted.body, new RegExp(`a=rtpmap:${offeredH264} H264/90000`));
      assert.match(posted.body, new RegExp(`a=rtpmap:${offeredOpus} opus/48000/2`, 'i'));

      await connectPlayer(player, posted.body);
      await waitFor(
        () => frames(player.video, MARK_A) >= 15 && count(player.audio, MARK_A) >= 25,
        8000,
        'frames of Cam A at the player',
      );
      assert.equal(count(player.video, MARK_B), 0, 'Cam B is not on program');
      const room = node.registry.get(roomId);
      assert.ok(room);
      const relay = node.whep.relay(room);
      assert.deepEqual(relay?.describe(), { tracks: 2, streams: 2, egresses: 1, inputs: 2 });

      await must(director.socket, 'program:preview', { sourceId: camB.sourceId });
      await must(director.socket, 'program:cut', {});
      await waitFor(
        () => frames(player.video, MARK_B) >= 15 && count(player.audio, MARK_B) >= 25,
        8000,
        'frames of Cam B after the cut',
      );
      const aAfter = { video: count(player.video, MARK_A), audio: count(player.audio, MARK_A) };
      await sleep(300);
      assert.deepEqual(
        { video: count(player.video, MARK_A), audio: count(player.audio, MARK_A) },
        aAfter,
        'Cam A no longer plays',
      );
      assert.equal(player.pc.signalingState, 'stable', 'no renegotiation');
      assert.equal(player.pc.getTransceivers().length, 2);
      assertCleanCut(player.video, 'video', MARK_A, MARK_B);
      assertCleanCut(player.audio, 'audio', MARK_A, MARK_B);

      // And back: the relay keeps following.
      await must(director.socket, 'program:preview', { sourceId: camA.sourceId });
      await must(director.socket, 'program:cut', {});
      const aBefore = frames(player.video, MARK_A);
      await waitFor(() => frames(player.video, MARK_A) >= aBefore + 10, 8000, 'Cam A again');

      assert.equal(await remove(node, location, token), 200);
      assert.deepEqual(counts(), before, 'the session and its relay are gone');
      assert.equal(await remove(node, location, token), 404);
    } finally {
      await player.pc.close();
    }
  });

  it('plays a named source for a director (iso feed), whatever is on program', async () => {
    const before = counts();
    const player = await wherep();
    const token = await tokenFor(node, roomId, 'director');
    try {
      const posted = await post(`${node.url}/whep/${roomId}?source=${camB.sourceId}`, player.offer, token);
      assert.equal(posted.status, 201, posted.body);
      await connectPlayer(player, posted.body);
      await waitFor(() => frames(player.video, MARK_B) >= 10, 8000, 'Cam B as an iso feed');
      assert.equal(node.registry.get(roomId)?.bus.state.programSourceId, camA.sourceId);
      assert.equal(count(player.video, MARK_A), 0);
      assert.equal(await remove(node, posted.headers.get('location') ?? '', token), 200);
      assert.deepEqual(counts(), before);
    } finally {
      await player.pc.close();
    }
  });

  it('revoking the invite a player plays with ends its session at once and refuses the token after', async () => {
    const before = counts();
    const player = await wherep();
    const invite = await node.auth.createInvite(roomId, { role: 'viewer', ttlSeconds: 600 });
    try {
      const posted = await post(`${node.url}/whep/${roomId}`, player.offer, invite.token);
      assert.equal(posted.status, 201, posted.body);
      await connectPlayer(player, posted.body);
      assert.equal(counts().sessions, before.sessions + 1);
      node.auth.revokeInvite(roomId, invite.inviteId);
      assert.deepEqual(counts(), before, 'the session, its peer and the relay are gone');
      assert.equal(
        await remove(node, posted.headers.get('location') ?? '', invite.token),
        404,
        'the session is gone',
      );
      const again = await post(`${node.url}/whep/${roomId}`, player.offer, invite.token);
      assert.equal(again.status, 401, again.body);
      assert.match(again.body, /revoked/);
      assert.deepEqual(counts(), before);
    } finally {
      await player.pc.close();
    }
  });

  it("sends the program's codec under the player's payload types (a Chrome-like offer)", async () => {
    const before = counts();
    const token = await tokenFor(node, roomId, 'viewer');
    // Cam A (H.264) is on program: the player's first codec, VP8, would show nothing.
    const posted = await post(`${node.url}/whep/${roomId}`, chromeLikeOffer, token);
    assert.equal(posted.status, 201, posted.body);
    assert.match(posted.body, /m=audio 9 UDP\/TLS\/RTP\/SAVPF 111\r\n/);
    assert.match(posted.body, /m=video 9 UDP\/TLS\/RTP\/SAVPF 102\r\n/);
    assert.match(posted.body, /a=rtpmap:102 H264\/90000/);
    assert.match(posted.body, /a=fmtp:102 .*packetization-mode=1/);
    assert.match(posted.body, /a=rtcp-fb:102 nack pli/);
    assert.match(posted.body, /a=rtcp-rsize/);
    assert.doesNotMatch(posted.body, /VP8|rtx|red\/48000/);
    assert.equal(posted.body.match(/a=sendonly/g)?.length, 2);
    // A werift player numbers payload types otherwise: a second egress router in the room.
    const other = await wherep();
    await other.pc.close();
    const second = await post(`${node.url}/whep/${roomId}`, other.offer, token);
    assert.equal(second.status, 201, second.body);
    const room = node.registry.get(roomId);
    assert.ok(room);
    assert.deepEqual(node.whep.relay(room)?.describe(), { tracks: 2, streams: 2, egresses: 2, inputs: 2 });
    for (const res of [posted, second])
      assert.equal(await remove(node, res.headers.get('location') ?? '', token), 200);
    assert.deepEqual(counts(), before);
  });

  it('PATCH on a live WHEP session (the WHIP semantics): trickle 204, If-Match 428/412, ICE restart 200 that the player follows', async () => {
    const player = await wherep();
    const token = await tokenFor(node, roomId, 'viewer');
    try {
      const posted = await post(`${node.url}/whep/${roomId}`, player.offer, token);
      assert.equal(posted.status, 201, posted.body);
      const location = posted.headers.get('location') ?? '';
      await connectPlayer(player, posted.body);
      const session = node.whep.session(roomId, location.split('/').pop() ?? '');
      assert.ok(session);
      await checkPatch({
        url: `${node.url}${location}`,
        token,
        etag: posted.headers.get('etag') ?? '',
        pc: player.pc,
        offer: player.offer,
        answer: posted.body,
        transport: session.transport,
        // Packets the player receives: the program keeps playing across the restart.
        flowing: async () => player.video.length + player.audio.length,
      });
      assert.equal(await remove(node, location, token), 200);
    } finally {
      await player.pc.close();
    }
  });

  for (const { profile, offered, encoder: kind, routerProfile } of [
    { profile: 'Main', offered: '4d401f', encoder: 'h264-main', routerProfile: '4d001f' },
    { profile: 'High', offered: '640c1f', encoder: 'h264-high', routerProfile: '4d001f' },
  ] as const)
    it(`plays real H.264 ${profile} frames (libx264 via a WHIP publisher offering ${offered}) that a decoder decodes at the player`, async () => {
      // A third source: werift publishing what ffmpeg's libx264 encodes, played as an iso feed so
      // the program of the other tests is left alone.
      const encoder = await wherift('127.0.0.1', {
        video: useH264({
          parameters: `profile-level-id=${offered};packetization-mode=1;level-asymmetry-allowed=1`,
          rtcpFeedback: [useNACK(), usePLI()],
        }),
      });
      const camToken = await tokenFor(node, roomId, 'camera');
      const published = await post(
        `${node.url}/whip/${roomId}?name=Real%20${profile}`,
        encoder.offer,
        camToken,
      );
      assert.equal(published.status, 201, published.body);
      const sourceLocation = published.headers.get('location') ?? '';
      const sourceId = sourceLocation.split('/').pop() ?? '';
      // The node labels it with the router profile it matches (Main for both: see routerH264ProfileFor).
      const producer = [
        ...(node.registry
          .get(roomId)
          ?.peers()
          .find((p) => p.clientId === sourceId)
          ?.producers.values() ?? []),
      ].find((e) => e.producer.kind === 'video')?.producer;
      assert.equal(producer?.rtpParameters.codecs[0]?.parameters?.['profile-level-id'], routerProfile);
      const player = await wherep();
      const token = await tokenFor(node, roomId, 'director');
      let video: FfmpegVideo | undefined;
      try {
        const connected = new Promise<void>((resolve) => {
          encoder.pc.connectionStateChange.subscribe((state) => {
            if (state === 'connected') resolve();
          });
        });
        await encoder.pc.setRemoteDescription({ type: 'answer', sdp: published.body });
        await connected;
        const track: MediaStreamTrack = encoder.video;
        const payloadType = encoder.pc.getSenders().find((s) => s.track === track)?.codec?.payloadType;
        assert.ok(payloadType !== undefined);
        video = await ffmpegVideoInto(track, payloadType, kind);
        const posted = await post(`${node.url}/whep/${roomId}?source=${sourceId}`, player.offer, token);
        assert.equal(posted.status, 201, posted.body);
        await connectPlayer(player, posted.body);
        const feeder = video;
        // About three seconds of 30 fps video, from the first key frame on.
        await waitFor(
          () => player.video.filter((p) => p.marker).length >= 90,
          15_000,
          `real frames at the player (${feeder.relayed()} relayed; ${feeder.log()})`,
        );
        const decoded = await decodeH264(depacketizeH264(player.video.map((p) => p.payload)));
        assert.equal(decoded.profile, profile, `the SPS the player received is libx264’s ${profile} profile`);
        assert.deepEqual([decoded.width, decoded.height], [320, 240]);
        // Every frame the player got whole decodes (a frame before the first key frame may not).
        assert.ok(
          decoded.frames >= 85,
          `ffmpeg decoded ${decoded.frames} frames of what the player received`,
        );
        assert.equal(await remove(node, posted.headers.get('location') ?? '', token), 200);
      } finally {
        await video?.stop();
        await player.pc.close();
        await remove(node, sourceLocation, camToken);
        await encoder.pc.close();
      }
    });

  it('answers GET with 204 and CORS preflight with Accept-Post; the Allow lists agree', async () => {
    const get = await fetch(`${node.url}/whep/${roomId}`);
    assert.equal(get.status, 204);
    const options = await fetch(`${node.url}/whep/${roomId}`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('accept-post'), 'application/sdp');
    assert.equal(options.headers.get('allow'), 'POST, GET, HEAD, OPTIONS');
    // No Origin: not a browser, no CORS grant needed (and none given to other sites).
    assert.equal(options.headers.get('access-control-allow-origin'), null);
    const session = await fetch(`${node.url}/whep/${roomId}/some-session`, { method: 'PUT' });
    assert.equal(session.status, 405);
    assert.equal(session.headers.get('allow'), 'PATCH, DELETE, GET, HEAD, OPTIONS');
    const patch = await fetch(`${node.url}/whep/${roomId}/some-session`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer x', 'content-type': SDPFRAG, 'if-match': '*' },
      body: 'a=end-of-candidates\r\n',
    });
    assert.equal(patch.status, 404);
  });

  describe('refusals leave nothing allocated', () => {
    let offer: string;
    let pc: RTCPeerConnection;
    before(async () => {
      ({ offer, pc } = await wherep());
    });
    after(() => pc.close());

    async function refused(
      expected: number,
      send: () => Promise<Posted>,
      bodyPattern: RegExp,
    ): Promise<void> {
      const before = { ...counts(), rooms: node.registry.rooms().length };
      const res = await send();
      assert.equal(res.status, expected, res.body);
      assert.match(res.body, bodyPattern);
      assert.deepEqual({ ...counts(), rooms: node.registry.rooms().length }, before);
    }
    const url = (query = '') => `${node.url}/whep/${roomId}${query}`;

    it('no token: 401', () => refused(401, () => post(url(), offer, undefined), /bearer token/));

    it('expired token: 401', async () => {
      const past = new TokenIssuer(TEST_TOKEN_SECRET, () => Date.now() - 3_600_000);
      const { token } = await past.issue({ room: roomId, role: 'viewer', ttlSeconds: 60 });
      await refused(401, () => post(url(), offer, token), /expired/);
    });

    it('token for another room: 401', async () => {
      const token = await tokenFor(node, 'elsewhere', 'viewer');
      await refused(401, () => post(url(), offer, token), /another room/);
    });

    it('a named source with a viewer token: 403', async () => {
      const token = await tokenFor(node, roomId, 'viewer');
      await refused(403, () => post(url(`?source=${camA.sourceId}`), offer, token), /program only/);
    });

    it('an unknown source: 404', async () => {
      const token = await tokenFor(node, roomId, 'director');
      await refused(404, () => post(url('?source=nobody'), offer, token), /no source "nobody"/);
    });

    it('malformed SDP: 400', async () => {
      const token = await tokenFor(node, roomId, 'viewer');
      await refused(400, () => post(url(), 'this is not sdp', token), /malformed SDP/);
      await refused(400, () => post(url(), offer.replace(/a=fingerprint:.*\r\n/g, ''), token), /fingerprint/);
    });

    it('wrong content type: 415', async () => {
      const token = await tokenFor(node, roomId, 'viewer');
      await refused(415, () => post(url(), offer, token, 'text/plain'), /application\/sdp/);
    });

    it('no receivable codec: 406', async () => {
      const token = await tokenFor(node, roomId, 'viewer');
      const unsupported = offer.replace(/H264\/90000/g, 'AV1/90000').replace(/opus\/48000\/2/gi, 'G722/8000');
      await refused(406, () => post(url(), unsupported, token), /no receivable codec/);
      // A player that only sends is not a WHEP player.
      await refused(406, () => post(url(), offer.replace(/a=recvonly/g, 'a=sendonly'), token), /codec/);
    });

    it('unknown room: 404, and no room is created', async () => {
      const token = await tokenFor(node, 'no-such-room', 'viewer');
      const res = await post(`${node.url}/whep/no-such-room`, offer, token);
      assert.equal(res.status, 404, res.body);
      assert.match(res.body, /no room/);
      assert.equal(node.registry.get('no-such-room'), undefined);
    });

    it('room full (peers per room): 429, with the relay of the other sessions untouched', async () => {
      // 8 peers per room: director, two cameras; the relay and four never-connecting sessions.
      const token = await tokenFor(node, roomId, 'viewer');
      const made: string[] = [];
      for (let i = 0; i < 4; i++) {
        const player = await wherep();
        await player.pc.close();
        const res = await post(url(), player.offer, token);
        assert.equal(res.status, 201, res.body);
        made.push(res.headers.get('location') ?? '');
      }
      assert.equal(node.registry.get(roomId)?.peerCount, 8);
      await refused(429, () => post(url(), offer, token), /peers per room/);
      for (const location of made) assert.equal(await remove(node, location, token), 200);
      assert.equal(node.registry.get(roomId)?.peerCount, 3);
      assert.equal(counts().relay, false);
    });

    it('too many sessions on the node: 503 with Retry-After', async () => {
      // The node-wide cap (MAX_WHEP_SESSIONS) on a second service with a cap of one.
      const small = new WhepService({
        registry: node.registry,
        auth: node.auth,
        pool: node.pool,
        logger: silentLogger,
        maxSessions: 1,
      });
      const handler = createWhepHandler(small, silentLogger);
      const server: Server = createServer((req, res) => {
        if (!handler(req, res)) res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const token = await tokenFor(node, roomId, 'viewer');
        const first = await post(`${base}/whep/${roomId}`, offer, token);
        assert.equal(first.status, 201, first.body);
        const before = counts();
        const res = await post(`${base}/whep/${roomId}`, offer, token);
        assert.equal(res.status, 503, res.body);
        assert.match(res.body, /at most/);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.deepEqual(counts(), before);
        small.close();
        assert.equal(small.size, 0);
        assert.equal(counts().relay, false);
      } finally {
        small.close();
        server.close();
      }
    });
  });
});

describe('WHEP playback at an edge (site and edge in one process)', () => {
  let fabric: LocalFabric;
  let site: MediaNode;
  let edge: MediaNode;
  const roomId = 'whep-edge-show';
  let director: Joined;
  let camA: Awaited<ReturnType<typeof publish>>;
  let camB: Awaited<ReturnType<typeof publish>>;

  before(async () => {
    fabric = new LocalFabric();
    const shared = {
      MICROSTUDIO_HEARTBEAT_MS: '200',
      MICROSTUDIO_PIPE_PORT_MIN: '47200',
      MICROSTUDIO_PIPE_PORT_MAX: '47299',
      MICROSTUDIO_MIRROR_IDLE_MS: '300',
    };
    site = await startTestNode({ ...shared, MICROSTUDIO_NODE_ID: 'whep-site' }, { fabric });
    edge = await startTestNode(
      { ...shared, MICROSTUDIO_NODE_ROLE: 'edge', MICROSTUDIO_NODE_ID: 'whep-edge' },
      { fabric },
    );
    director = await joinAs(site, roomId, 'director', 'dir-edge');
    camA = await publish(site, roomId, 'Cam A', MARK_A);
    camB = await publish(site, roomId, 'Cam B', MARK_B);
    await must(director.socket, 'program:preview', { sourceId: camA.sourceId });
    await must(director.socket, 'program:cut', {});
    await waitFor(() => edge.edge?.uplink === 'up', 5000, 'the edge uplink');
  });

  after(async () => {
    await camA?.close();
    await camB?.close();
    director?.socket.close();
    await edge?.close();
    await site?.close();
    await fabric?.close();
    closeLeftoverWeriftSockets();
  });

  it('plays the site program at the edge and follows a cut made at the site', async () => {
    const player = await wherep();
    // Tokens are the site's: every node of a deployment shares the secret.
    const token = await tokenFor(site, roomId, 'viewer');
    try {
      const posted = await post(`${edge.url}/whep/${roomId}`, player.offer, token);
      assert.equal(posted.status, 201, posted.body);
      const edgeRoom = edge.registry.get(roomId);
      assert.ok(edgeRoom?.mirrored, 'the edge plays from its mirror of the site room');
      await connectPlayer(player, posted.body);
      await waitFor(
        () => frames(player.video, MARK_A) >= 15 && count(player.audio, MARK_A) >= 25,
        8000,
        'Cam A through the edge',
      );
      await must(director.socket, 'program:preview', { sourceId: camB.sourceId });
      await must(director.socket, 'program:cut', {});
      await waitFor(
        () => frames(player.video, MARK_B) >= 15 && count(player.audio, MARK_B) >= 25,
        8000,
        'Cam B through the edge after the cut at the site',
      );
      assertCleanCut(player.video, 'video', MARK_A, MARK_B);
      assertCleanCut(player.audio, 'audio', MARK_A, MARK_B);
      assert.equal(player.pc.signalingState, 'stable');

      assert.equal(await remove(edge, posted.headers.get('location') ?? '', token), 200);
      assert.equal(edge.whep.size, 0);
      assert.equal(edgeRoom.peerCount, 0, 'the session and the relay left the edge room');
      assert.equal(edge.whep.relay(edgeRoom), undefined);
    } finally {
      await player.pc.close();
    }
  });

  it('refuses a room the site does not have with 404, and lets the mirror go', async () => {
    const { offer, pc } = await wherep();
    try {
      const token = await tokenFor(site, 'not-at-the-site', 'viewer');
      const res = await post(`${edge.url}/whep/not-at-the-site`, offer, token);
      assert.equal(res.status, 404, res.body);
      assert.match(res.body, /at the site/);
      assert.equal(edge.registry.get('not-at-the-site'), undefined);
      assert.equal(edge.whep.size, 0);
    } finally {
      await pc.close();
    }
  });
});

describe('WHEP relay RTP helpers', () => {
  it('rewrites a packet header and keeps the marker bit and payload', () => {
    const packet = Buffer.from([0x80, 0x80 | 96, 0x12, 0x34, 0, 0, 0x10, 0, 0, 0, 0, 7, 0xde, 0xad]);
    assert.ok(isRtp(packet));
    assert.deepEqual(readRtp(packet), { sequenceNumber: 0x1234, timestamp: 0x1000, ssrc: 7 });
    rewriteRtp(packet, {
      payloadType: 102,
      sequenceNumber: 0x1_0001,
      timestamp: 2 ** 32 + 5,
      ssrc: 0xfffffffe,
    });
    assert.equal(packet[1], 0x80 | 102);
    assert.deepEqual(readRtp(packet), { sequenceNumber: 1, timestamp: 5, ssrc: 0xfffffffe });
    assert.deepEqual([...packet.subarray(12)], [0xde, 0xad]);
    assert.ok(seqAfter(2, 0xfffe) && !seqAfter(0xfffe, 2) && !seqAfter(5, 5));
  });

  it('finds key-frame requests (PLI, FIR) and sender reports in compound RTCP', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
    const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 9, 0, 0, 0, 42]);
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 43, 1, 0, 0, 0]);
    const remb = Buffer.from([0x8f, 206, 0, 2, 0, 0, 0, 9, 0, 0, 0, 44]);
    const compound = Buffer.concat([rr, pli, fir, remb]);
    assert.ok(isRtcp(compound) && !isRtp(compound));
    assert.deepEqual(keyFrameRequests(compound), [42, 43]);
    const report = {
      ssrc: 11,
      ntpSeconds: 3_900_000_000,
      ntpFraction: 123,
      rtpTimestamp: 4_000_000_000,
      packetCount: 10,
      octetCount: 1000,
    };
    const sdes = Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 11]);
    assert.deepEqual(senderReports(Buffer.concat([senderReport(report), sdes])), [report]);
    assert.deepEqual(senderReports(Buffer.from([0x80, 200, 0, 9])), [], 'a truncated packet is ignored');
  });
});
