import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '@microstudio/auth';
import type { types } from 'mediasoup';
import type { RTCPeerConnection } from 'werift';
import type { MediaNode } from '../src/node.ts';
import { mapOfferMedia, routerH264ProfileFor } from '../src/whip/offerMapping.ts';
import { parseOffer } from '../src/whip/sdpOffer.ts';
import { joinAs, must, nextEvent, sleep, startTestNode, TEST_TOKEN_SECRET, tokenFor } from './helpers.ts';
import { closeLeftoverWeriftSockets, feed, wherift } from './support/whipPublisher.ts';

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
  node = await startTestNode({ MICROSTUDIO_MAX_PEERS_PER_ROOM: '3' });
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

  it('answers CORS preflight with Accept-Post and refuses PATCH with 405', async () => {
    const options = await fetch(`${node.url}/whip/any-room`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('accept-post'), 'application/sdp');
    assert.equal(options.headers.get('access-control-allow-origin'), '*');
    const patch = await fetch(`${node.url}/whip/any-room/some-session`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=end-of-candidates\r\n',
    });
    assert.equal(patch.status, 405);
    assert.match(patch.headers.get('allow') ?? '', /DELETE/);
    const missing = await fetch(`${node.url}/whip/any-room/nope`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer x' },
    });
    assert.equal(missing.status, 404);
  });
});

describe('WHIP refusals leave nothing allocated', () => {
  const roomId = 'whip-refusals';
  let offer: string;
  let pc: RTCPeerConnection;
  before(async () => {
    // A room with a peer in it, so counts are of a live room.
    ({ offer, pc } = await wherift());
  });
  after(() => pc.close());

  async function refused(expected: number, send: () => Promise<Posted>, bodyPattern: RegExp): Promise<void> {
    const before = counts(roomId);
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

  it('no supported codec: 415', async () => {
    const token = await tokenFor(node, roomId, 'camera');
    const unsupported = offer.replace(/H264\/90000/g, 'AV1/90000').replace(/opus\/48000\/2/gi, 'G722/8000');
    await refused(415, () => postOffer(roomId, unsupported, token), /no supported codec/);
  });

  it('too many sessions (peers per room): 429', async () => {
    // The node allows 3 peers per room: fill it with sessions that never connect.
    const token = await tokenFor(node, roomId, 'camera');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postOffer(roomId, offer, token);
      assert.equal(res.status, 201, res.body);
      made.push(res.headers.get('location') ?? '');
    }
    await refused(429, () => postOffer(roomId, offer, token), /peers per room/);
    for (const location of made) {
      const res = await fetch(`${node.url}${location}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
    }
    assert.equal(counts(roomId).peers, 0);
  });
});

describe('WHIP offer mapping', () => {
  it('maps H.264 profiles onto the router profiles', () => {
    assert.equal(routerH264ProfileFor('42e01f'), '42e01f');
    assert.equal(routerH264ProfileFor('42001f'), '42e01f');
    assert.equal(routerH264ProfileFor('4d0032'), '4d0032');
    assert.equal(routerH264ProfileFor('640c1f'), '4d001f');
    assert.equal(routerH264ProfileFor('6e001f'), undefined);
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
