import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { ports, turn } from '../playwright.config.ts';
import {
  createInvite,
  expect,
  framesDecoded,
  openCamera,
  openControl,
  SOURCES,
  startCamera,
  test,
  uniqueRoom,
} from './studio.ts';

/**
 * TURN with the REST shared-secret scheme, end to end: a real coturn (Debian's) on loopback,
 * the ICE servers the media node hands a real join, and Chromium peer connections restricted to
 * relay candidates.
 */

let coturn: ChildProcess | undefined;
let dir: string;
let coturnOutput = '';

/** A STUN Binding request to coturn's UDP port; resolves once it answers (it is listening). */
function stunAnswers(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (message) => done(message.readUInt16BE(0) === 0x0101));
    socket.on('error', () => done(false));
    socket.send(request, port, '127.0.0.1');
  });
}

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'microstudio-turn-'));
  coturn = spawn(
    'turnserver',
    [
      '--use-auth-secret',
      `--static-auth-secret=${turn.secret}`,
      '--realm=microstudio',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${turn.port}`,
      `--min-port=${turn.relayPorts[0]}`,
      `--max-port=${turn.relayPorts[1]}`,
      // Both test peers live on loopback: coturn refuses to relay to 127.0.0.1 unless told to.
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      `--db=${join(dir, 'turndb.sqlite')}`,
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      '--log-file=stdout',
      '--no-software-attribute',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  coturn.stdout?.on('data', (d: Buffer) => {
    coturnOutput += d.toString();
  });
  coturn.stderr?.on('data', (d: Buffer) => {
    coturnOutput += d.toString();
  });
  const spawned = coturn;
  const exited = new Promise<string>((resolve) => {
    spawned.once('exit', (code) => resolve(`coturn exited (${code}): ${coturnOutput.slice(-2000)}`));
    spawned.once('error', (error) =>
      resolve(`coturn did not start: ${error.message} (apt-get install coturn)`),
    );
  });
  const deadline = Date.now() + 10_000;
  let up = false;
  while (!up && Date.now() < deadline) {
    const outcome = await Promise.race([stunAnswers(turn.port, 300), exited]);
    if (typeof outcome === 'string') throw new Error(outcome);
    up = outcome;
  }
  if (!up)
    throw new Error(`coturn did not answer STUN on 127.0.0.1:${turn.port}: ${coturnOutput.slice(-2000)}`);
});

test.afterAll(async () => {
  const child = coturn;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface RelayOutcome {
  relayCandidates: number;
  connected: boolean;
  message: string | null;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  candidateErrors: string[];
}

/**
 * Two relay-only peer connections in the page, talking over a data channel through coturn.
 * Reports what the browser saw (getStats of the selected candidate pair).
 */
function relayLoop(page: Page, iceServers: RTCIceServer[], waitMs: number): Promise<RelayOutcome> {
  return page.evaluate(
    async ({ iceServers, waitMs }) => {
      const config: RTCConfiguration = { iceServers, iceTransportPolicy: 'relay' };
      const a = new RTCPeerConnection(config);
      const b = new RTCPeerConnection(config);
      let relayCandidates = 0;
      const candidateErrors: string[] = [];
      for (const [pc, other] of [
        [a, b],
        [b, a],
      ] as const) {
        pc.onicecandidate = ({ candidate }) => {
          if (!candidate) return;
          if (candidate.type === 'relay') relayCandidates++;
          other.addIceCandidate(candidate).catch(() => {});
        };
        pc.onicecandidateerror = (e) => {
          const error = e as RTCPeerConnectionIceErrorEvent;
          candidateErrors.push(`${error.errorCode} ${error.errorText}`.trim());
        };
      }
      const channel = a.createDataChannel('through-turn');
      const received = new Promise<string>((resolve) => {
        b.ondatachannel = ({ channel: incoming }) => {
          incoming.onmessage = ({ data }) => resolve(String(data));
        };
      });
      const opened = new Promise<void>((resolve) => {
        channel.onopen = () => resolve();
      });
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription as RTCSessionDescription);
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), waitMs));
      let message: string | null = null;
      if ((await Promise.race([opened, timeout])) !== 'timeout') {
        channel.send('hello through coturn');
        const got = await Promise.race([received, timeout]);
        message = got === 'timeout' ? null : got;
      }
      let localCandidateType: string | null = null;
      let remoteCandidateType: string | null = null;
      // biome-ignore lint/suspicious/noExplicitAny: getStats entries are loosely typed dictionaries
      const byId = new Map<string, any>();
      (await a.getStats()).forEach((s) => {
        byId.set(s.id, s);
      });
      for (const s of byId.values()) {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          localCandidateType = byId.get(pair?.localCandidateId)?.candidateType ?? null;
          remoteCandidateType = byId.get(pair?.remoteCandidateId)?.candidateType ?? null;
        }
      }
      const connected = a.connectionState === 'connected';
      a.close();
      b.close();
      return {
        relayCandidates,
        connected,
        message,
        localCandidateType,
        remoteCandidateType,
        candidateErrors,
      };
    },
    { iceServers, waitMs },
  );
}

test('a join hands out REST TURN credentials; relay-only peers connect through coturn, an expired credential gets no relay', async ({
  newContext,
}) => {
  // The ICE servers exactly as the app gets them: a camera joins with an invite, and its
  // mediasoup transport is built with the node's iceServers (read back from that peer connection).
  const room = uniqueRoom('turn');
  const control = await openControl(await newContext(), room);
  const camera = await openCamera(
    await newContext(),
    room,
    SOURCES[0] as (typeof SOURCES)[0],
    await createInvite(control, 'camera'),
  );
  const handedOut = await camera.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    return pcs.flatMap((pc) => pc.getConfiguration().iceServers ?? []);
  });
  expect(handedOut.length, 'the node handed ICE servers to the join').toBeGreaterThan(0);
  const server = handedOut[0] as RTCIceServer;
  expect([server.urls].flat()).toContain(`turn:127.0.0.1:${turn.port}?transport=udp`);
  const username = String(server.username);
  const [expiry, user] = username.split(':');
  const now = Math.floor(Date.now() / 1000);
  expect(Number(expiry), 'short-lived: expires within the configured TTL').toBeGreaterThan(now);
  expect(Number(expiry)).toBeLessThanOrEqual(now + 3600);
  expect(user, 'the user part is the device (clientId)').toBeTruthy();
  expect(server.credential, 'signed with the shared secret, REST scheme').toBe(
    createHmac('sha1', turn.secret).update(username).digest('base64'),
  );

  // (a) Relay only, with the handed-out credential: connects through coturn.
  const ok = await relayLoop(camera, [server], 15_000);
  expect(ok.relayCandidates, `relay candidates (errors: ${ok.candidateErrors.join('; ')})`).toBeGreaterThan(
    0,
  );
  expect(ok.message).toBe('hello through coturn');
  expect(ok.connected).toBe(true);
  expect(ok.localCandidateType).toBe('relay');
  expect(ok.remoteCandidateType).toBe('relay');

  // (b) The same scheme, correctly signed, but expired a minute ago: coturn refuses it.
  const expiredName = `${now - 60}:${user}`;
  const expired: RTCIceServer = {
    urls: server.urls,
    username: expiredName,
    credential: createHmac('sha1', turn.secret).update(expiredName).digest('base64'),
  };
  const refused = await relayLoop(camera, [expired], 8_000);
  // coturn answered, and refused: 401 for the expired username (not an unreachable server).
  expect(
    refused.candidateErrors.some((e) => e.startsWith('401')),
    refused.candidateErrors.join('; '),
  ).toBe(true);
  expect(refused.relayCandidates).toBe(0);
  expect(refused.message).toBeNull();
  expect(refused.connected).toBe(false);
});

/**
 * Watches every peer connection of a page for relay candidates and candidate errors; with
 * `replace`, also swaps the credential of every ICE server the app configures (the node always
 * hands out a fresh one, so this is how a camera holding an expired credential is made).
 */
async function watchIce(
  context: BrowserContext,
  replace: { username: string; credential: string } | null,
): Promise<void> {
  await context.addInitScript((replace) => {
    const w = window as unknown as { __relayCandidates: number; __iceErrors: string[] };
    w.__relayCandidates = 0;
    w.__iceErrors = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        const iceServers = (config?.iceServers ?? []).map((server) =>
          replace ? { ...server, ...replace } : server,
        );
        super({ ...config, iceServers });
        this.addEventListener('icecandidate', ({ candidate }) => {
          if (candidate?.type === 'relay') w.__relayCandidates++;
        });
        this.addEventListener('icecandidateerror', (e) => {
          const error = e as RTCPeerConnectionIceErrorEvent;
          w.__iceErrors.push(`${error.errorCode} ${error.errorText}`.trim());
        });
      }
    } as typeof RTCPeerConnection;
  }, replace);
}

/** A camera page joined relay-only: `?ice=relay`, the SDK's iceTransportPolicy option. */
function openRelayCamera(context: BrowserContext, room: string, invite: string): Promise<Page> {
  return startCamera(context, room, SOURCES[0] as (typeof SOURCES)[0], invite, { ice: 'relay' });
}

interface SendPath {
  /** Send connections (those with outgoing video) and their ICE transport policies. */
  policies: string[];
  connected: boolean;
  /** The selected candidate pair of a connected send connection. */
  localType: string | null;
  remoteType: string | null;
  remotePort: number | null;
  /** Types of every local candidate the send connections gathered. */
  localTypes: string[];
  framesSent: number;
  bytesSent: number;
  relayCandidates: number;
  iceErrors: string[];
}

/** What the camera's send connection reports (getStats), read the way the browser sees it. */
function sendPath(page: Page): Promise<SendPath> {
  return page.evaluate(async () => {
    const w = window as unknown as {
      __pcs: RTCPeerConnection[];
      __relayCandidates: number;
      __iceErrors: string[];
    };
    const out: SendPath = {
      policies: [],
      connected: false,
      localType: null,
      remoteType: null,
      remotePort: null,
      localTypes: [],
      framesSent: 0,
      bytesSent: 0,
      relayCandidates: w.__relayCandidates,
      iceErrors: w.__iceErrors,
    };
    for (const pc of w.__pcs) {
      if (pc.connectionState === 'closed') continue;
      // biome-ignore lint/suspicious/noExplicitAny: getStats entries are loosely typed dictionaries
      const byId = new Map<string, any>();
      (await pc.getStats()).forEach((s) => {
        byId.set(s.id, s);
      });
      const outbound = [...byId.values()].filter((s) => s.type === 'outbound-rtp' && s.kind === 'video');
      // A send connection: one with a track to send (a receive-only one has none).
      if (!pc.getSenders().some((sender) => sender.track)) continue;
      out.policies.push(pc.getConfiguration().iceTransportPolicy ?? 'all');
      for (const s of outbound) {
        out.framesSent += s.framesSent ?? 0;
        out.bytesSent += s.bytesSent ?? 0;
      }
      for (const s of byId.values()) {
        if (s.type === 'local-candidate') out.localTypes.push(s.candidateType);
        if (s.type === 'transport' && s.selectedCandidatePairId && pc.connectionState === 'connected') {
          const pair = byId.get(s.selectedCandidatePairId);
          out.connected = true;
          out.localType = byId.get(pair?.localCandidateId)?.candidateType ?? null;
          const remote = byId.get(pair?.remoteCandidateId);
          out.remoteType = remote?.candidateType ?? null;
          out.remotePort = remote?.port ?? null;
        }
      }
    }
    return out;
  });
}

test('a relay-only camera publishes through coturn into the media node; the control room decodes it', async ({
  newContext,
}) => {
  const room = uniqueRoom('turn-media');
  const control = await openControl(await newContext(), room);
  const invite = await createInvite(control, 'camera');
  const context = await newContext();
  await watchIce(context, null);
  const camera = await openRelayCamera(context, room, invite);
  await expect(camera.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
  let path: SendPath | undefined;
  await expect
    .poll(
      async () => {
        path = await sendPath(camera);
        return path.connected && path.framesSent > 30;
      },
      { message: 'the relay-only send transport connects and sends frames', timeout: 30_000 },
    )
    .toBe(true);
  const sent = path as SendPath;
  expect(sent.policies.length, 'the camera has a send connection').toBeGreaterThan(0);
  expect(
    sent.policies.every((p) => p === 'relay'),
    sent.policies.join(','),
  ).toBe(true);
  // The browser's end of the selected pair is coturn's relay; the other end is the media node's
  // own ICE candidate (mediasoup is ICE-lite: host candidates on its RTC ports).
  expect(sent.localType).toBe('relay');
  expect(sent.remoteType).toBe('host');
  expect(sent.remotePort).toBeGreaterThanOrEqual(ports.rtc);
  expect(sent.remotePort).toBeLessThan(ports.rtc + 2);
  expect(sent.localTypes.length).toBeGreaterThan(0);
  expect(
    sent.localTypes.every((t) => t === 'relay'),
    sent.localTypes.join(','),
  ).toBe(true);
  expect(sent.bytesSent).toBeGreaterThan(10_000);
  // The node received it: the director's own (unrestricted) connection decodes the camera.
  await expect
    .poll(() => framesDecoded(control), { message: 'the control room decodes the relayed camera' })
    .toBeGreaterThan(30);
});

test('a relay-only camera with an expired TURN credential gets no relay and sends nothing', async ({
  newContext,
}) => {
  const room = uniqueRoom('turn-expired');
  const control = await openControl(await newContext(), room);
  const invite = await createInvite(control, 'camera');
  const context = await newContext();
  // Correctly signed with the shared secret, in the REST scheme, but expired a minute ago.
  const username = `${Math.floor(Date.now() / 1000) - 60}:expired-camera`;
  await watchIce(context, {
    username,
    credential: createHmac('sha1', turn.secret).update(username).digest('base64'),
  });
  const camera = await openRelayCamera(context, room, invite);
  // coturn answered and refused (401), rather than being unreachable.
  await expect
    .poll(async () => (await sendPath(camera)).iceErrors.some((e) => e.startsWith('401')), {
      message: 'coturn refuses the expired credential',
      timeout: 20_000,
    })
    .toBe(true);
  // Long enough for a relay connection to have formed (the test above connects in a few seconds).
  await camera.waitForTimeout(8000);
  const path = await sendPath(camera);
  expect(path.policies.length, 'the camera has a send connection').toBeGreaterThan(0);
  expect(
    path.policies.every((p) => p === 'relay'),
    path.policies.join(','),
  ).toBe(true);
  expect(path.relayCandidates).toBe(0);
  expect(path.localTypes).toEqual([]);
  expect(path.connected).toBe(false);
  expect(path.bytesSent).toBe(0);
  expect(await framesDecoded(control), 'nothing reached the control room').toBe(0);
});
