/**
 * RFC 9725 §4.3 PATCH against a live WHIP or WHEP session whose client is werift: trickle ICE,
 * entity-tag preconditions, and an ICE restart the client then really performs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { types } from 'mediasoup';
import { classes, Message, methods, parseMessage, type RTCPeerConnection } from 'werift';

export const SDPFRAG = 'application/trickle-ice-sdpfrag';

export interface Patched {
  status: number;
  body: string;
  headers: Headers;
}

export async function patch(
  url: string,
  body: string,
  headers: Record<string, string | undefined>,
): Promise<Patched> {
  const defined = Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const res = await fetch(url, { method: 'PATCH', headers: defined, body });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The first ice-ufrag / ice-pwd of an SDP. */
export function iceOf(sdp: string): { ufrag: string; pwd: string } {
  const ufrag = /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
  const pwd = /a=ice-pwd:(\S+)/.exec(sdp)?.[1];
  assert.ok(ufrag && pwd, 'the SDP has ICE credentials');
  return { ufrag, pwd };
}

/**
 * The trickle-ice-sdpfrag a client sends for its local SDP (RFC 8840 §4.4, RFC 9725 §4.3.1:
 * the bundle group, the offerer-tagged m-line, its mid, the credentials and every candidate).
 */
export function fragmentOf(sdp: string): string {
  const lines = sdp.split(/\r?\n/);
  const first = lines.findIndex((l) => l.startsWith('m='));
  const next = lines.findIndex((l, i) => i > first && l.startsWith('m='));
  // The offerer-tagged m-section: with max-bundle its candidates are the transport's.
  const section = lines.slice(first, next === -1 ? undefined : next);
  const mid = section.find((l) => l.startsWith('a=mid:'));
  const { ufrag, pwd } = iceOf(sdp);
  return [
    ...lines.filter((l) => l.startsWith('a=group:BUNDLE')),
    lines[first],
    ...(mid ? [mid] : []),
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    ...section.filter((l) => l.startsWith('a=candidate:')),
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

/** werift starts an ICE restart: a new offer with new credentials, gathered. Returns its SDP. */
async function restartOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') {
          unSubscribe();
          resolve();
        }
      });
    });
  }
  const sdp = pc.localDescription?.sdp;
  assert.ok(sdp, 'werift made a restart offer');
  return sdp;
}

/**
 * One ICE connectivity check (RFC 8445 §7.2.2), as a full ICE agent sends it to the node's UDP
 * candidate: a STUN Binding request with USERNAME `server:client`, PRIORITY, ICE-CONTROLLING and
 * MESSAGE-INTEGRITY keyed with the node's password. The node answers a success only if it holds
 * those credentials. No USE-CANDIDATE: the session's selected pair is left alone.
 */
export async function iceCheck(
  transport: types.WebRtcTransport,
  server: { ufrag: string; pwd: string },
): Promise<string> {
  const candidate = transport.iceCandidates.find((c) => c.protocol === 'udp');
  assert.ok(candidate, 'the node has a UDP candidate');
  const request = new Message(methods.BINDING, classes.REQUEST)
    .setAttribute('USERNAME', `${server.ufrag}:chk${randomBytes(2).toString('hex')}`)
    .setAttribute('PRIORITY', 1)
    .setAttribute('ICE-CONTROLLING', randomBytes(8).readBigUInt64BE())
    .addMessageIntegrity(Buffer.from(server.pwd, 'utf8'))
    .addFingerprint();
  const socket = dgram.createSocket('udp4');
  try {
    const answer = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(request.bytes, candidate.port, candidate.address);
    const data = await Promise.race([answer, sleep(1500).then(() => undefined)]);
    if (!data) return 'no answer';
    const response = parseMessage(data, Buffer.from(server.pwd, 'utf8'));
    if (response?.messageClass === classes.RESPONSE) return 'success';
    const error = parseMessage(data)?.getAttributeValue('ERROR-CODE') as [number, string] | undefined;
    return `error ${error?.[0] ?? 0}`;
  } finally {
    socket.close();
  }
}

export interface LiveSession {
  /** The session URL (node URL + Location). */
  url: string;
  token: string;
  /** The ETag of the 201. */
  etag: string;
  /** The client, connected, media flowing. */
  pc: RTCPeerConnection;
  offer: string;
  answer: string;
  /** The node's transport for the session. */
  transport: types.WebRtcTransport;
  /** A counter that grows while media flows (packets received at one end). */
  flowing: () => Promise<number>;
}

async function grows(counter: () => Promise<number>, what: string): Promise<void> {
  const start = await counter();
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    if ((await counter()) > start + 20) return;
    await sleep(100);
  }
  assert.fail(`${what}: media did not keep flowing (${start} → ${await counter()})`);
}

/**
 * Trickle (204, no ETag), the preconditions (428 without If-Match, 412 with a stale ETag), the
 * content type (415) and a malformed fragment (400); then an ICE restart from werift's own new
 * credentials (200, sdpfrag with the node's new credentials and candidates, new ETag): a real
 * werift takes the new answer, its ICE agent reconnects with checks signed with the node's new
 * credentials, media flows again, and the old credentials reach nothing.
 */
export async function checkPatch(live: LiveSession): Promise<void> {
  const auth = `Bearer ${live.token}`;
  const trickle = fragmentOf(live.offer);

  const ok = await patch(live.url, trickle, {
    authorization: auth,
    'content-type': SDPFRAG,
    'if-match': live.etag,
  });
  assert.equal(ok.status, 204, ok.body);
  assert.equal(ok.body, '');
  assert.equal(ok.headers.get('etag'), null, 'a trickle PATCH answers without ETag (§4.3.1)');

  const noMatch = await patch(live.url, trickle, { authorization: auth, 'content-type': SDPFRAG });
  assert.equal(noMatch.status, 428, noMatch.body);
  const badType = await patch(live.url, trickle, {
    authorization: auth,
    'content-type': 'application/sdp',
    'if-match': live.etag,
  });
  assert.equal(badType.status, 415, badType.body);
  assert.equal(badType.headers.get('accept-patch'), SDPFRAG);
  const malformed = await patch(live.url, 'a=ice-ufrag:only-a-ufrag\r\nhello\r\n', {
    authorization: auth,
    'content-type': SDPFRAG,
    'if-match': live.etag,
  });
  assert.equal(malformed.status, 400, malformed.body);
  const noToken = await patch(live.url, trickle, { 'content-type': SDPFRAG, 'if-match': live.etag });
  assert.equal(noToken.status, 401, noToken.body);
  await grows(live.flowing, 'after the trickle PATCHes');

  // ICE restart: werift's new credentials, If-Match "*" as §4.3.2 requires.
  const before = iceOf(live.answer);
  assert.equal(
    await iceCheck(live.transport, before),
    'success',
    'a check with the credentials of the answer',
  );
  const restart = await restartOffer(live.pc);
  assert.notEqual(iceOf(restart).ufrag, iceOf(live.offer).ufrag, 'werift has new credentials');
  const restarted = await patch(live.url, fragmentOf(restart), {
    authorization: auth,
    'content-type': SDPFRAG,
    'if-match': '*',
  });
  assert.equal(restarted.status, 200, restarted.body);
  assert.equal(restarted.headers.get('content-type'), SDPFRAG);
  const etag = restarted.headers.get('etag') ?? '';
  assert.match(etag, /^".+"$/);
  assert.notEqual(etag, live.etag, 'a restart names a new ICE session');
  const fresh = iceOf(restarted.body);
  assert.notEqual(fresh.ufrag, before.ufrag);
  assert.notEqual(fresh.pwd, before.pwd);
  assert.equal(fresh.ufrag, live.transport.iceParameters.usernameFragment);
  assert.match(restarted.body, /^a=ice-lite\r\n/);
  assert.match(restarted.body, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  assert.match(restarted.body, /a=end-of-candidates/);

  const stale = await patch(live.url, fragmentOf(restart), {
    authorization: auth,
    'content-type': SDPFRAG,
    'if-match': live.etag,
  });
  assert.equal(stale.status, 412, stale.body);
  const current = await patch(live.url, fragmentOf(restart), {
    authorization: auth,
    'content-type': SDPFRAG,
    'if-match': etag,
  });
  assert.equal(current.status, 204, 'the new ETag is the one in force (a trickle with it)');

  // werift applies the node's new credentials (the rest of the answer is unchanged, §4.3.2) and
  // runs new connectivity checks with them. werift 0.25 skips the checks on its own when DTLS is
  // already up (its restart drops its nominated pair, so its media would stop), so they are
  // started through its public RTCIceTransport.start(): it resolves once a pair is nominated,
  // which needs the node to answer checks signed with the new credentials.
  const answer = live.answer
    .replaceAll(`a=ice-ufrag:${before.ufrag}`, `a=ice-ufrag:${fresh.ufrag}`)
    .replaceAll(`a=ice-pwd:${before.pwd}`, `a=ice-pwd:${fresh.pwd}`);
  await live.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  const [iceTransport] = live.pc.iceTransports;
  assert.ok(iceTransport);
  assert.equal(iceTransport.connection.remoteUsername, fresh.ufrag);
  await Promise.race([
    iceTransport.start(),
    sleep(8000).then(() => assert.fail(`werift's ICE checks after the restart (${iceTransport.state})`)),
  ]);
  assert.ok(['connected', 'completed'].includes(iceTransport.state), iceTransport.state);
  await grows(live.flowing, 'after the ICE restart');
  assert.equal(live.pc.connectionState, 'connected');
  assert.ok(['connected', 'completed'].includes(live.transport.iceState), live.transport.iceState);
  // The node answers checks with the new credentials; the old ones reach nothing any more (its
  // WebRtcServer finds a session by ufrag and forgot the old one once the new one was used).
  assert.equal(await iceCheck(live.transport, fresh), 'success', 'a check with the new credentials');
  assert.equal(await iceCheck(live.transport, before), 'no answer', 'the old credentials are gone');
  assert.equal(live.transport.dtlsState, 'connected');
}
