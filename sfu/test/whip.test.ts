import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '@microstudio/auth';
import type { types } from 'mediasoup';
import { type RTCPeerConnection, useNACK, usePLI, useVP8 } from 'werift';
import { LocalFabric } from '../src/fabric/LocalFabric.ts';
import type { MediaNode } from '../src/node.ts';
import { mapOfferMedia, routerH264ProfileFor } from '../src/whip/offerMapping.ts';
import { parseIceFragment } from '../src/whip/sdpFragment.ts';
import { parseOffer } from '../src/whip/sdpOffer.ts';
import {
  type Joined,
  joinAs,
  must,
  nextEvent,
  sleep,
  startTestNode,
  TEST_TOKEN_SECRET,
  tokenFor,
} from './helpers.ts';
import { type FfmpegVideo, ffmpegVideoInto } from './support/ffmpegVideo.ts';
import { checkPatch, SDPFRAG } from './support/icePatch.ts';
import { closeLeftoverWeriftSockets, feed, wherift } from './support/whipPublisher.ts';

/** The studio's origin, as MICROSTUDIO_ALLOWED_ORIGINS names it. */
const STUDIO_ORIGIN = 'http://studio.test';

/** What OBS-style encoders offer: H.264 High, RTX, SSRCs, transport-cc, no audio here. */
const obsLikeOffer = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=fingerprint:sha-256 E5:F5:CA:A7:2D:93:E6:16:AC:21:09:9F:23:51:62:8C:D0:66:E9:0C:22:54:2B:82:0C:DF:E0:C5:2C:7E:CD:53',
  'a=setup:actpass',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901',
  'm=video 9 UDP/TLS/RTP/SAVPF 102 103',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:9 urn:example:unknown',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 profile-level-id=640032;packetization-mode=1;level-asymmetry-allowed=1',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=rtcp-fb:102 goog-lntf',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=ssrc-group:FID 1111 2222',
  'a=ssrc:1111 cname:obs',
  'a=ssrc:2222 cname:obs',
  '',
].join('\r\n');

let node: MediaNode;
before(async () => {
  node = await startTestNode({
    MICROSTUDIO_MAX_PEERS_PER_ROOM: '3',
    MICROSTUDIO_ALLOWED_ORIGINS: STUDIO_ORIGIN,
  });
});
after(async () => {
  await node.close();
  closeLeftoverWeriftSockets();
});

interface Posted {
  status: number;
  body: string;
  headers: Headers;
}

async function postOffer(
  roomId: string,
  sdp: string,
  token: string | undefined,
  query = '',
  contentType = 'application/sdp',
): Promise<Posted> {
  const res = await fetch(`${node.url}/whip/${roomId}${query}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: sdp,
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** Everything a refused request must leave as it was. */
function counts(roomId: string) {
  const room = node.registry.get(roomId);
  const peers = room?.peers() ?? [];
  return {
    roomOpen: room !== undefined,
    peers: peers.length,
    transports: peers.reduce((n, p) => n + p.transports.size, 0),
    producers: peers.reduce((n, p) => n + p.producers.size, 0),
    sessions: node.whip.size,
  };
}

/** POSTs werift's offer and connects it with the answer. */
async function connectPublisher(
  roomId: string,
  encoder: Awaited<ReturnType<typeof wherift>>,
  token: string,
  query = '',
): Promise<Posted & { location: string; sessionId: string }> {
  const posted = await postOffer(roomId, encoder.offer, token, query);
  assert.equal(posted.status, 201, posted.body);
  const location = posted.headers.get('location') ?? '';
  const connected = new Promise<void>((resolve) => {
    encoder.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') resolve();
    });
  });
  await encoder.pc.setRemoteDescription({ type: 'answer', sdp: posted.body });
  await connected;
  return { ...posted, location, sessionId: location.split('/').pop() ?? '' };
}

function producersOf(roomId: string, sessionId: string): types.Producer[] {
  const peer = node.registry
    .get(roomId)
    ?.peers()
    .find((p) => p.clientId === sessionId);
  return [...(peer?.producers.values() ?? [])].map((e) => e.producer);
}

async function deleteSession(location: string, token: string): Promise<number> {
  const res = await fetch(`${node.url}${location}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  await res.text();
  return res.status;
}

async function packetsOf(producer: types.Producer): Promise<number> {
  const stats = await producer.getStats();
  return stats.reduce((n, s) => n + s.packetCount, 0);
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('WHIP ingest', () => {
  it('an independent publisher (werift, H.264 + Opus) becomes a source the director can cut to', async () => {
    const roomId = 'whip-main';
    const director = await joinAs(node, roomId, 'director', 'dir-1');
    const before = counts(roomId);
    const encoder = await wherift();
    const token = await tokenFor(node, roomId, 'camera');
    const sourceSeen = nextEvent(director.socket, 'room:state', (s) =>
      s.sources.some((src) => src.displayName === 'Encoder 1' && src.tracks.length === 2),
    );
    let stop = (): void => {};
    try {
      const posted = await postOffer(roomId, encoder.offer, token, '?name=Encoder%201');
      assert.equal(posted.status, 201, posted.body);
      assert.equal(posted.headers.get('content-type'), 'application/sdp');
      assert.match(posted.headers.get('etag') ?? '', /^".+"$/);
      const location = posted.headers.get('location') ?? '';
      assert.match(location, /^\/whip\/whip-main\/[0-9a-f-]{36}$/);
      const sessionId = location.split('/').pop() ?? '';
      assert.match(posted.body, /a=ice-lite/);
      assert.match(posted.body, /a=setup:passive/);
      assert.match(posted.body, /a=rtpmap:\d+ H264\/90000/);
      assert.match(posted.body, /a=rtpmap:\d+ opus\/48000\/2/i);

      const connected = new Promise<void>((resolve) => {
        encoder.pc.connectionStateChange.subscribe((state) => {
          if (state === 'connected') resolve();
        });
      });
      await encoder.pc.setRemoteDescription({ type: 'answer', sdp: posted.body });
      await connected;
      stop = feed(encoder.video, encoder.audio);
      const room = node.registry.get(roomId);
      assert.ok(room);
      const peer = room.peers().find((p) => p.clientId === sessionId);
      assert.ok(peer, 'the WHIP session is a peer of the room');
      assert.equal(peer.role, 'camera');
      const producers = [...peer.producers.values()].map((e) => e.producer);
      assert.deepEqual(producers.map((p) => p.kind).sort(), ['audio', 'video']);
      for (const producer of producers)
        await waitFor(async () => (await packetsOf(producer)) > 10, 5000, `${producer.kind} RTP`);

      const snapshot = room.snapshot();
      const source = snapshot.sources.find((s) => s.sourceId === sessionId);
      assert.ok(source);
      assert.equal(source.displayName, 'Encoder 1');
      await sourceSeen;

      await must(director.socket, 'program:preview', { sourceId: sessionId });
      await must(director.socket, 'program:cut', {});
      assert.equal(room.bus.state.programSourceId, sessionId);

      const res = await fetch(`${node.url}${location}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(counts(roomId), before);
      assert.equal(room.snapshot().sources.length, 0);
    } finally {
      stop();
      await encoder.pc.close();
      director.socket.close();
    }
  });

  it('accepts an H.264 High offer with RTX as a main-profile producer with the offered SSRCs', async () => {
    const roomId = 'whip-high';
    const { token } = await node.auth.issuer.issue({
      room: roomId,
      role: 'camera',
      ttlSeconds: 600,
      label: 'Studio box',
    });
    const posted = await postOffer(roomId, obsLikeOffer, token);
    assert.equal(posted.status, 201, posted.body);
    assert.match(posted.body, /a=rtpmap:102 H264\/90000/);
    assert.match(posted.body, /a=rtpmap:103 rtx\/90000/);
    assert.match(
      posted.body,
      /a=extmap:3 http:\/\/www.ietf.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/,
    );
    assert.doesNotMatch(posted.body, /urn:example:unknown/);
    const room = node.registry.get(roomId);
    const source = room?.snapshot().sources[0];
    assert.equal(source?.displayName, 'Studio box');
    const producer = [...(room?.peers()[0]?.producers.values() ?? [])][0]?.producer;
    assert.equal(producer?.rtpParameters.codecs[0]?.parameters?.['profile-level-id'], '4d0032');
    assert.equal(producer?.rtpParameters.encodings?.[0]?.ssrc, 1111);
    const res = await fetch(`${node.url}${posted.headers.get('location')}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(room?.peerCount, 0);
  });

  it('PATCH on a live session (RFC 9725 §4.3): trickle 204, If-Match 428/412, ICE restart 200 that the publisher follows', async () => {
    const roomId = 'whip-patch';
    const encoder = await wherift();
    const token = await tokenFor(node, roomId, 'camera');
    let stop = (): void => {};
    try {
      const posted = await connectPublisher(roomId, encoder, token);
      stop = feed(encoder.video, encoder.audio);
      const session = node.whip.session(roomId, posted.sessionId);
      assert.ok(session);
      const [video] = producersOf(roomId, posted.sessionId).filter((p) => p.kind === 'video');
      assert.ok(video);
      await checkPatch({
        url: `${node.url}${posted.location}`,
        token,
        etag: posted.headers.get('etag') ?? '',
        pc: encoder.pc,
        offer: encoder.offer,
        answer: posted.body,
        transport: session.transport,
        flowing: () => packetsOf(video),
      });
      const other = await tokenFor(node, 'elsewhere', 'camera');
      const refused = await fetch(`${node.url}${posted.location}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${other}`, 'content-type': SDPFRAG, 'if-match': '*' },
        body: 'a=end-of-candidates\r\n',
      });
      assert.equal(refused.status, 401, 'a token for another room may not PATCH the session');
      assert.equal(await deleteSession(posted.location, token), 200);
      assert.equal(node.whip.size, 0);
    } finally {
      stop();
      await encoder.pc.close();
    }
  });

  it('GET answers 204 with no content (RFC 9725 §4); OPTIONS and 405 advertise the same methods', async () => {
    const endpoint = await fetch(`${node.url}/whip/any-room`);
    assert.equal(endpoint.status, 204);
    assert.equal(await endpoint.text(), '');
    const missing = await fetch(`${node.url}/whip/any-room/nope`);
    assert.equal(missing.status, 404);
    const options = await fetch(`${node.url}/whip/any-room`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('accept-post'), 'application/sdp');
    const put = await fetch(`${node.url}/whip/any-room`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), options.headers.get('allow'));
    assert.equal(put.headers.get('allow'), 'POST, GET, HEAD, OPTIONS');
    const sessionOptions = await fetch(`${node.url}/whip/any-room/some-session`, { method: 'OPTIONS' });
    assert.equal(sessionOptions.headers.get('accept-patch'), SDPFRAG);
    const post = await fetch(`${node.url}/whip/any-room/some-session`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), sessionOptions.headers.get('allow'));
    assert.equal(post.headers.get('allow'), 'PATCH, DELETE, GET, HEAD, OPTIONS');
    const unknown = await fetch(`${node.url}/whip/any-room/nope`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer x', 'content-type': SDPFRAG, 'if-match': '*' },
      body: 'a=end-of-candidates\r\n',
    });
    assert.equal(unknown.status, 404);
    const gone = await fetch(`${node.url}/whip/any-room/nope`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer x' },
    });
    assert.equal(gone.status, 404);
  });

  it("CORS: the studio's origin is echoed (with Vary: Origin), other origins get no grant, clients without Origin are unaffected", async () => {
    const preflight = (origin?: string) =>
      fetch(`${node.url}/whip/any-room`, {
        method: 'OPTIONS',
        headers: {
          ...(origin ? { origin } : {}),
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const studio = await preflight(STUDIO_ORIGIN);
    assert.equal(studio.status, 204);
    assert.equal(studio.headers.get('access-control-allow-origin'), STUDIO_ORIGIN);
    assert.equal(studio.headers.get('vary'), 'Origin');
    assert.match(studio.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(studio.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const evil = await preflight('http://evil.test');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
    assert.equal(evil.headers.get('vary'), 'Origin');
    const none = await preflight();
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    assert.equal(none.headers.get('accept-post'), 'application/sdp');
    // Actual responses too (a refusal here): readable by the studio, not by another site.
    const fromStudio = await fetch(`${node.url}/whip/any-room`, {
      method: 'POST',
      headers: { origin: STUDIO_ORIGIN, 'content-type': 'application/sdp' },
      body: 'v=0',
    });
    assert.equal(fromStudio.status, 401);
    assert.equal(fromStudio.headers.get('access-control-allow-origin'), STUDIO_ORIGIN);
    assert.match(fromStudio.headers.get('access-control-expose-headers') ?? '', /Location/);
    const fromEvil = await fetch(`${node.url}/whip/any-room`, {
      method: 'POST',
      headers: { origin: 'http://evil.test', 'content-type': 'application/sdp' },
      body: 'v=0',
    });
    assert.equal(fromEvil.status, 401);
    assert.equal(fromEvil.headers.get('access-control-allow-origin'), null);
  });

  it('a VP8 publisher (werift, real libvpx frames from ffmpeg): the producer receives VP8 RTP with key frames; DELETE returns counts to baseline', async () => {
    const roomId = 'whip-vp8';
    const director = await joinAs(node, roomId, 'director', 'dir-vp8');
    const before = counts(roomId);
    const encoder = await wherift('127.0.0.1', { video: useVP8({ rtcpFeedback: [useNACK(), usePLI()] }) });
    assert.match(encoder.offer, /a=rtpmap:\d+ VP8\/90000/);
    const token = await tokenFor(node, roomId, 'camera');
    let video: FfmpegVideo | undefined;
    try {
      const posted = await connectPublisher(roomId, encoder, token, '?name=VP8%20Box');
      assert.match(posted.body, /a=rtpmap:\d+ VP8\/90000/);
      const payloadType = encoder.pc.getSenders().find((s) => s.track === encoder.video)?.codec?.payloadType;
      assert.ok(payloadType !== undefined);
      const [producer] = producersOf(roomId, posted.sessionId).filter((p) => p.kind === 'video');
      assert.ok(producer);
      assert.equal(producer.rtpParameters.codecs[0]?.mimeType, 'video/VP8');
      // mediasoup reads the VP8 payload descriptor: each key frame is a trace event.
      await producer.enableTraceEvent(['keyframe']);
      const keyframe = new Promise<void>((resolve) => {
        producer.on('trace', (trace) => {
          if (trace.type === 'keyframe') resolve();
        });
      });
      video = await ffmpegVideoInto(encoder.video, payloadType, 'vp8');
      const feeder = video;
      await waitFor(async () => (await packetsOf(producer)) > 60, 8000, `VP8 RTP (${feeder.log()})`);
      await Promise.race([keyframe, sleep(5000).then(() => assert.fail('mediasoup saw no VP8 key frame'))]);
      const [stats] = await producer.getStats();
      assert.equal(stats?.mimeType, 'video/VP8');
      assert.ok((stats?.byteCount ?? 0) > 10_000, 'real frames, not a trickle of bytes');
      assert.equal(await deleteSession(posted.location, token), 200);
      assert.deepEqual(counts(roomId), before);
    } finally {
      await video?.stop();
      await encoder.pc.close();
      director.socket.close();
    }
  });
});

describe('WHIP refusals leave nothing allocated', () => {
  const roomId = 'whip-refusals';
  let offer: string;
  let pc: RTCPeerConnection;
  let director: Joined;
  before(async () => {
    // A live room with a real peer in it (a director), so the counts are of a room that exists.
    director = await joinAs(node, roomId, 'director', 'dir-refusals');
    assert.deepEqual(counts(roomId), { roomOpen: true, peers: 1, transports: 0, producers: 0, sessions: 0 });
    ({ offer, pc } = await wherift());
  });
  after(async () => {
    await pc.close();
    director.socket.close();
  });

  async function refused(expected: number, send: () => Promise<Posted>, bodyPattern: RegExp): Promise<void> {
    const before = counts(roomId);
    assert.ok(
      node.registry
        .get(roomId)
        ?.peers()
        .some((p) => p.role === 'director'),
      'the director is in the room',
    );
    const res = await send();
    assert.equal(res.status, expected, res.body);
    assert.match(res.body, bodyPattern);
    assert.deepEqual(counts(roomId), before);
  }

  it('no token: 401', () => refused(401, () => postOffer(roomId, offer, undefined), /bearer token/));

  it('viewer token: 403', async () => {
    const token = await tokenFor(node, roomId, 'viewer');
    await refused(403, () => postOffer(roomId, offer, token), /viewer/);
  });

  it('expired token: 401', async () => {
    const past = new TokenIssuer(TEST_TOKEN_SECRET, () => Date.now() - 3_600_000);
    const { token } = await past.issue({ room: roomId, role: 'camera', ttlSeconds: 60 });
    await refused(401, () => postOffer(roomId, offer, token), /exp/i);
  });

  it('token for another room: 401', async () => {
    const token = await tokenFor(node, 'elsewhere', 'camera');
    await refused(401, () => postOffer(roomId, offer, token), /another room/);
  });

  it('malformed SDP: 400', async () => {
    const token = await tokenFor(node, roomId, 'camera');
    await refused(400, () => postOffer(roomId, 'this is not sdp', token), /malformed SDP/);
    await refused(
      400,
      () => postOffer(roomId, offer.replace(/a=fingerprint:.*\r\n/g, ''), token),
      /fingerprint/,
    );
  });

  it('wrong content type: 415', async () => {
    const token = await tokenFor(node, roomId, 'camera');
    await refused(415, () => postOffer(roomId, offer, token, '', 'text/plain'), /application\/sdp/);
  });

  it('no supported codec: 422', async () => {
    const token = await tokenFor(node, roomId, 'camera');
    const unsupported = offer.replace(/H264\/90000/g, 'AV1/90000').replace(/opus\/48000\/2/gi, 'G722/8000');
    await refused(422, () => postOffer(roomId, unsupported, token), /no supported codec/);
  });

  it('one m-section the node cannot take: 422 for the whole offer, no partial answer (RFC 9725 §4.5)', async () => {
    const token = await tokenFor(node, roomId, 'camera');
    // H.264 video is fine, the audio is G.722: the node would have to reject that m-section.
    const partial = offer.replace(/opus\/48000\/2/gi, 'G722/8000');
    await refused(422, () => postOffer(roomId, partial, token), /m-section 1 has no supported codec/);
    const two = offer
      .replace(/(m=video[\s\S]*?)(m=audio)/, '$1$1$2')
      .replace(/a=mid:0\r\n([\s\S]*?)a=mid:0/, 'a=mid:0\r\n$1a=mid:2');
    await refused(422, () => postOffer(roomId, two, token), /more than one video track/);
  });

  it('too many sessions (peers per room): 429', async () => {
    // The node allows 3 peers per room: the director and two sessions that never connect.
    const token = await tokenFor(node, roomId, 'camera');
    const made: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await postOffer(roomId, offer, token);
      assert.equal(res.status, 201, res.body);
      made.push(res.headers.get('location') ?? '');
    }
    await refused(429, () => postOffer(roomId, offer, token), /peers per room/);
    for (const location of made) assert.equal(await deleteSession(location, token), 200);
    assert.equal(counts(roomId).peers, 1);
  });
});

describe('WHIP at an edge node', () => {
  it('is refused 403 before anything is opened: no mirror room stays open', async () => {
    const fabric = new LocalFabric();
    const edge = await startTestNode(
      {
        MICROSTUDIO_NODE_ROLE: 'edge',
        MICROSTUDIO_NODE_ID: 'whip-edge',
        MICROSTUDIO_NODE_SECRET: 'whip-test-node-secret-0123456789',
        MICROSTUDIO_PIPE_PORT_MIN: '47400',
        MICROSTUDIO_PIPE_PORT_MAX: '47499',
      },
      { fabric },
    );
    const { offer, pc } = await wherift();
    try {
      const { token } = await edge.auth.issuer.issue({
        room: 'whip-at-edge',
        role: 'camera',
        ttlSeconds: 600,
      });
      const res = await fetch(`${edge.url}/whip/whip-at-edge`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
        body: offer,
      });
      const body = await res.text();
      assert.equal(res.status, 403, body);
      assert.match(body, /publish over WHIP at the site/);
      assert.equal(edge.registry.get('whip-at-edge'), undefined, 'no mirror room was opened');
      assert.equal(edge.registry.rooms().length, 0);
      assert.equal(edge.whip.size, 0);
    } finally {
      await pc.close();
      await edge.close();
      await fabric.close();
    }
  });
});

describe('WHIP offer mapping', () => {
  it('maps H.264 profiles onto the router profiles', () => {
    // Baseline and constrained baseline → constrained baseline.
    assert.equal(routerH264ProfileFor('42e01f'), '42e01f');
    assert.equal(routerH264ProfileFor('42001f'), '42e01f');
    // Main stays Main, whatever constraint_set1 says (4d40xx is what x264 and most encoders send).
    assert.equal(routerH264ProfileFor('4d401f'), '4d001f');
    assert.equal(routerH264ProfileFor('4d001f'), '4d001f');
    assert.equal(routerH264ProfileFor('4d0032'), '4d0032');
    // Main with constraint_set0 (it also obeys Baseline) is constrained baseline (RFC 6184 §8.1).
    assert.equal(routerH264ProfileFor('4d801f'), '42e01f');
    assert.equal(routerH264ProfileFor('4dc01f'), '42e01f');
    // High → Main (the bitstream is forwarded untouched; decoders read the SPS).
    assert.equal(routerH264ProfileFor('640c1f'), '4d001f');
    assert.equal(routerH264ProfileFor('64001f'), '4d001f');
    assert.equal(routerH264ProfileFor('6e001f'), undefined);
    assert.equal(routerH264ProfileFor('zz001f'), undefined);
  });

  it('reads trickle-ice-sdpfrag bodies and refuses malformed ones', () => {
    const restart = parseIceFragment(
      [
        'a=ice-options:trickle ice2',
        'a=group:BUNDLE 0 1',
        'm=audio 9 UDP/TLS/RTP/SAVPF 111',
        'a=mid:0',
        'a=ice-ufrag:ysXw',
        'a=ice-pwd:vw5LmwG4y/e6dPP/zAP9Gp5k',
        'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1',
        'a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0',
        '',
      ].join('\r\n'),
    );
    assert.deepEqual(restart, {
      credentials: { ufrag: 'ysXw', pwd: 'vw5LmwG4y/e6dPP/zAP9Gp5k' },
      media: { line: 'm=audio 9 UDP/TLS/RTP/SAVPF 111', mid: '0' },
      bundle: 'BUNDLE 0 1',
      candidates: 2,
    });
    assert.deepEqual(parseIceFragment('a=end-of-candidates\n'), { candidates: 0 });
    for (const bad of [
      '',
      'hello',
      'a=ice-ufrag:abcd\r\n',
      'a=ice-pwd:0123456789012345678901\r\n',
      'a=candidate:1 1 udp x 1.2.3.4 5 typ host\r\n',
      'a=rtpmap:96 VP8/90000\r\n',
      'a=ice-ufrag:ab\r\na=ice-pwd:0123456789012345678901\r\n',
    ])
      assert.throws(() => parseIceFragment(bad), /malformed SDP fragment/, JSON.stringify(bad));
  });

  it('reads an OBS-like offer: H.264 High with RTX, SSRCs and header extensions', () => {
    const sdp = obsLikeOffer;
    const offer = parseOffer(sdp);
    const media = offer.media[0];
    assert.ok(media);
    const mapped = mapOfferMedia(
      media,
      node.registry.rooms()[0]?.rtpCapabilities ?? { codecs: [], headerExtensions: [] },
    );
    assert.ok(mapped);
    assert.deepEqual(mapped.payloadTypes, [102, 103]);
    assert.equal(mapped.rtpParameters.codecs[0]?.parameters?.['profile-level-id'], '4d0032');
    assert.deepEqual(mapped.rtpParameters.codecs[0]?.rtcpFeedback, [
      { type: 'nack' },
      { type: 'nack', parameter: 'pli' },
    ]);
    assert.deepEqual(mapped.rtpParameters.encodings, [{ ssrc: 1111, rtx: { ssrc: 2222 } }]);
    assert.deepEqual(
      mapped.headerExtensions.map((h) => h.id),
      [3, 4],
    );
    assert.equal(mapped.rtpParameters.rtcp?.cname, 'obs');
  });
});
