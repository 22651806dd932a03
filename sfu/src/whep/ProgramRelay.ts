import { randomInt, randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { NotificationName, NotificationOf, RtpCapabilities } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { PeerSink } from '../rooms/types.ts';
import type { PoolWorker } from '../workers/WorkerPool.ts';
import { type RelayMime, relayCodec } from './offer.ts';
import {
  isRtcp,
  isRtp,
  keyFrameRequests,
  readRtp,
  rewriteRtp,
  senderReport,
  senderReports,
  seqAfter,
} from './rtp.ts';

const LOOPBACK = '127.0.0.1';
/** How long a cut waits for the new source's first key frame before the old source stops anyway. */
export const KEYFRAME_WAIT_MS = 1_000;
/** Delay before a failed switch (source not piped yet, producer gone) is tried again. */
const RETRY_MS = 1_000;
/** Socket buffers for the relay's loopback socket: a key frame arrives as one burst. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Key-frame requests from players are passed on to a source at most this often. */
const KEYFRAME_REQUEST_INTERVAL_MS = 300;
/** The payload type each relayed stream carries into its egress producers. */
const STREAM_PAYLOAD_TYPE: Record<RelayMime, number> = {
  'audio/opus': 100,
  'video/vp8': 101,
  'video/h264': 102,
};
const VIDEO_FEEDBACK: types.RtcpFeedback[] = [
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
];

/** What a relay track follows: the room's program, or one named source. */
export type Selector = { kind: 'program' } | { kind: 'source'; sourceId: string };

export function selectorKey(selector: Selector): string {
  return selector.kind === 'program' ? 'program' : `source:${selector.sourceId}`;
}

/** The current source of a track: a consumer of the source's producer on the input transport. */
interface Input {
  consumer: types.Consumer;
  producerId: string;
  /** The SSRC this consumer sends with (what arrives on the relay socket). */
  ssrc: number;
  mime: RelayMime;
  /** The stream its packets are rewritten into, once the first one went there. */
  stream: Stream | undefined;
  seqDelta: number;
  tsDelta: number;
}

/** One selector and kind: which input feeds it now, and the streams it sends. */
interface Track {
  key: string;
  selector: Selector;
  kind: types.MediaKind;
  /** CNAME shared by the audio and video streams of one selector (lip sync at the player). */
  cname: string;
  /** Attachments holding this track. */
  holds: number;
  /** The producer being played (or switched to); undefined = nothing to play. */
  wanted: string | undefined;
  generation: number;
  active: Input | undefined;
  /** The next source, waiting for its first packet (a key frame, for video) to take over. */
  pending: Input | undefined;
  /** The switch in flight (never rejects). */
  switching: Promise<void>;
  streams: Map<RelayMime, Stream>;
  graceTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  lastKeyFrameRequest: number;
}

/**
 * One continuous RTP stream (fixed SSRC, continuous sequence numbers and timestamps) of one
 * track in one codec. It is copied into one producer per egress router that has a player for it.
 */
interface Stream {
  key: string;
  track: Track;
  mime: RelayMime;
  ssrc: number;
  payloadType: number;
  clockRate: number;
  started: boolean;
  lastSeq: number;
  lastTs: number;
  lastAt: number;
  packets: number;
  octets: number;
  outputs: Set<Output>;
}

/**
 * A router for players that number payload types alike: its codecs carry the players' payload
 * types, because a mediasoup consumer sends with its router's payload types, and a WHEP answer
 * must use the ones the player offered. One plain transport receives the relayed streams.
 */
interface Egress {
  key: string;
  router: types.Router;
  transport: types.PlainTransport;
  port: number;
  outputs: Map<string, Output>;
  users: number;
}

interface Output {
  egress: Egress;
  stream: Stream;
  producer: types.Producer;
  users: number;
}

export interface AttachRequest {
  selector: Selector;
  /** The player's Opus payload type, when it takes audio. */
  audio?: { payloadType: number } | undefined;
  /** The player's receivable video codecs in its order of preference, when it takes video. */
  video?: { codecs: { mime: 'video/vp8' | 'video/h264'; payloadType: number }[] } | undefined;
}

/** One player's hold on the relay: its egress router and the producers it consumes. */
export interface Attachment {
  readonly relay: ProgramRelay;
  readonly router: types.Router;
  readonly worker: PoolWorker;
  readonly outputs: ReadonlyMap<types.MediaKind, { producer: types.Producer; mime: RelayMime }>;
  /** Lets go of what this attachment held. Safe to call twice. */
  release(): void;
}

export class RelayClosedError extends Error {
  override name = 'RelayClosedError';
}

export interface ProgramRelayOptions {
  room: Room;
  /** The pool worker of the room's router (egress routers go there too). */
  worker: PoolWorker;
  logger: Logger;
  /** Called once when the relay closes (unused, room closed or recovering, socket error). */
  onClose: (relay: ProgramRelay, why: string) => void;
  keyframeWaitMs?: number;
}

/**
 * The program relay of one room: what WHEP players consume instead of the sources themselves.
 *
 * A WHEP player cannot renegotiate, so each of its m-sections must carry one RTP stream from
 * start to end: one SSRC (a player demultiplexing by the SSRCs of the answer, as werift does,
 * drops any other), continuous sequence numbers and timestamps. mediasoup gives each consumer
 * its own SSRC and cannot move a consumer to another producer, so a cut cannot be a consumer
 * swap. Instead the relay consumes the program source (as a hidden viewer peer of the room, so
 * an edge pipes it from the site on demand) into a loopback PlainTransport, rewrites each packet
 * into a stable stream (SSRC, sequence numbers and timestamps continuous across sources), and
 * sends it into one producer per egress router. On a cut it consumes the new source (mediasoup
 * starts that consumer on a key frame and the relay asks for one), keeps forwarding the old one
 * until the new one's first packet arrives, then switches: players see a clean cut, no gap.
 * Key-frame requests from players (PLI/FIR on the stable SSRC) go to the current source;
 * sender reports are rewritten so players keep audio and video in sync.
 */
export class ProgramRelay {
  readonly id = randomUUID();
  readonly #room: Room;
  readonly #worker: PoolWorker;
  readonly #log: Logger;
  readonly #options: ProgramRelayOptions;
  readonly #peer: Peer;
  readonly #socket: Socket;
  readonly #input: types.PlainTransport;
  readonly #tracks = new Map<string, Track>();
  readonly #egresses = new Map<string, Egress>();
  /** Input consumer SSRC → its input. */
  readonly #inputs = new Map<number, { track: Track; input: Input }>();
  /** Stream SSRC → stream (for key-frame requests from the egress producers). */
  readonly #streams = new Map<number, Stream>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: ProgramRelayOptions, peer: Peer, socket: Socket, input: types.PlainTransport) {
    this.#options = options;
    this.#room = options.room;
    this.#worker = options.worker;
    this.#log = options.logger;
    this.#peer = peer;
    this.#socket = socket;
    this.#input = input;
    socket.on('message', (message) => this.#onMessage(message));
    socket.on('error', (error) => {
      this.#log.error('relay socket failed', { room: this.#room.id, error: String(error) });
      this.close('socket error');
    });
  }

  /**
   * Joins the room as a hidden viewer (counted in the room's peers) with a loopback plain
   * transport for the sources it consumes, and binds the relay's UDP socket.
   */
  static async open(options: ProgramRelayOptions): Promise<ProgramRelay> {
    const { room } = options;
    let relay: ProgramRelay | undefined;
    const sink: PeerSink = {
      notify: <N extends NotificationName>(name: N, payload: NotificationOf<N>) => {
        if (relay) relay.#onNotification(name, payload);
      },
      detached: (reason) => relay?.close(`relay peer ${reason}`),
    };
    const peer = room.join({
      role: 'viewer',
      displayName: 'WHEP relay',
      clientId: `whep-relay-${randomUUID()}`,
      sink,
    });
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, LOOPBACK, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      for (const set of [socket.setRecvBufferSize, socket.setSendBufferSize]) {
        try {
          set.call(socket, SOCKET_BUFFER_BYTES);
        } catch {
          // Capped by the kernel (net.core.rmem_max / wmem_max): the default then.
        }
      }
      const input = await room.createPlainTransport(peer, 'recv', {
        listenInfo: { protocol: 'udp', ip: LOOPBACK },
        rtcpMux: true,
        comedia: false,
      });
      await input.connect({ ip: LOOPBACK, port: socket.address().port });
      relay = new ProgramRelay(options, peer, socket, input);
      return relay;
    } catch (error) {
      room.leave(peer);
      socket.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get room(): Room {
    return this.#room;
  }

  /** What the relay holds now (tests, logs). */
  describe(): { tracks: number; streams: number; egresses: number; inputs: number } {
    return {
      tracks: this.#tracks.size,
      streams: this.#streams.size,
      egresses: this.#egresses.size,
      inputs: this.#inputs.size,
    };
  }

  /**
   * Holds the tracks a player needs, picks its video codec (the current source's when the
   * player takes it, else the player's first), and returns its egress router and producers.
   */
  attach(request: AttachRequest): Promise<Attachment> {
    return this.#locked(() => this.#attach(request));
  }

  /** Closes everything the relay owns and leaves the room. Safe to call twice. */
  close(why = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const track of this.#tracks.values()) this.#stopTrack(track);
    this.#tracks.clear();
    for (const egress of this.#egresses.values()) egress.router.close();
    this.#egresses.clear();
    this.#streams.clear();
    this.#room.leave(this.#peer);
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
    this.#log.info('program relay closed', { room: this.#room.id, relay: this.id, why });
    this.#options.onClose(this, why);
  }

  // ── attachments ────────────────────────────────────────────────────────────────────────────

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #attach(request: AttachRequest): Promise<Attachment> {
    if (this.#closed) throw new RelayClosedError('the program relay closed');
    const held: Track[] = [];
    const outputs: Output[] = [];
    let egress: Egress | undefined;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(held, outputs, egress);
    };
    try {
      const wants: [types.MediaKind, boolean][] = [
        ['audio', request.audio !== undefined],
        ['video', request.video !== undefined],
      ];
      for (const [kind, wanted] of wants) {
        if (!wanted) continue;
        const track = this.#track(request.selector, kind);
        track.holds += 1;
        held.push(track);
      }
      const audioTrack = held.find((t) => t.kind === 'audio');
      const videoTrack = held.find((t) => t.kind === 'video');
      let video: { mime: RelayMime; payloadType: number } | undefined;
      if (videoTrack && request.video) {
        // The first switch tells which codec the source sends.
        await videoTrack.switching;
        const current = videoTrack.pending?.mime ?? videoTrack.active?.mime;
        video = request.video.codecs.find((c) => c.mime === current) ?? request.video.codecs[0];
      }
      if (this.#closed) throw new RelayClosedError('the program relay closed');
      const audio = request.audio
        ? { mime: 'audio/opus' as const, payloadType: request.audio.payloadType }
        : undefined;
      const key = JSON.stringify([
        audio?.payloadType ?? null,
        video?.mime ?? null,
        video?.payloadType ?? null,
      ]);
      egress = this.#egresses.get(key) ?? (await this.#createEgress(key, audio, video));
      egress.users += 1;
      for (const [track, codec] of [
        [audioTrack, audio],
        [videoTrack, video],
      ] as const) {
        if (!track || !codec) continue;
        const stream = this.#stream(track, codec.mime);
        let output = egress.outputs.get(stream.key);
        if (!output) {
          try {
            output = await this.#createOutput(egress, stream);
          } catch (error) {
            if (stream.outputs.size === 0) this.#dropStream(stream);
            throw error;
          }
        }
        output.users += 1;
        outputs.push(output);
      }
      if (this.#closed) throw new RelayClosedError('the program relay closed');
    } catch (error) {
      release();
      throw error;
    }
    const byKind = new Map(
      outputs.map((o) => [o.stream.track.kind, { producer: o.producer, mime: o.stream.mime }] as const),
    );
    const router = egress.router;
    return { relay: this, router, worker: this.#worker, outputs: byKind, release };
  }

  #release(held: Track[], outputs: Output[], egress: Egress | undefined): void {
    if (this.#closed) return;
    for (const output of outputs) {
      output.users -= 1;
      if (output.users > 0) continue;
      output.producer.close();
      this.#forgetOutput(output);
    }
    if (egress) {
      egress.users -= 1;
      if (egress.users <= 0) {
        egress.router.close();
        if (this.#egresses.get(egress.key) === egress) this.#egresses.delete(egress.key);
      }
    }
    for (const track of held) {
      track.holds -= 1;
      if (track.holds > 0) continue;
      this.#stopTrack(track);
      this.#tracks.delete(track.key);
    }
    if (this.#tracks.size === 0) this.close('no players left');
  }

  #forgetOutput(output: Output): void {
    const { egress, stream } = output;
    if (egress.outputs.get(stream.key) === output) egress.outputs.delete(stream.key);
    stream.outputs.delete(output);
    if (stream.outputs.size === 0) this.#dropStream(stream);
  }

  #dropStream(stream: Stream): void {
    if (stream.track.streams.get(stream.mime) === stream) stream.track.streams.delete(stream.mime);
    if (this.#streams.get(stream.ssrc) === stream) this.#streams.delete(stream.ssrc);
  }

  async #createEgress(
    key: string,
    audio: { mime: RelayMime; payloadType: number } | undefined,
    video: { mime: RelayMime; payloadType: number } | undefined,
  ): Promise<Egress> {
    // One video codec per router: mediasoup numbers each video codec's RTX after the codecs
    // before it, so a second codec's payload type could collide with the first one's RTX.
    const mediaCodecs: types.RouterRtpCodecCapability[] = [];
    for (const codec of [audio, video]) {
      if (!codec) continue;
      mediaCodecs.push({
        kind: codec.mime.startsWith('audio/') ? 'audio' : 'video',
        preferredPayloadType: codec.payloadType,
        ...relayCodec(codec.mime),
      } as types.RouterRtpCodecCapability);
    }
    const router = await this.#worker.worker.createRouter({
      mediaCodecs,
      appData: { whepRelay: this.id, room: this.#room.id },
    });
    try {
      const transport = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: LOOPBACK },
        rtcpMux: true,
        comedia: false,
      });
      await transport.connect({ ip: LOOPBACK, port: this.#socket.address().port });
      if (this.#closed) throw new RelayClosedError('the program relay closed');
      const egress: Egress = {
        key,
        router,
        transport,
        port: transport.tuple.localPort,
        outputs: new Map(),
        users: 0,
      };
      this.#egresses.set(key, egress);
      router.observer.once('close', () => {
        if (this.#egresses.get(key) === egress) this.#egresses.delete(key);
      });
      return egress;
    } catch (error) {
      router.close();
      throw error;
    }
  }

  async #createOutput(egress: Egress, stream: Stream): Promise<Output> {
    const codec = relayCodec(stream.mime);
    const producer = await egress.transport.produce({
      kind: stream.track.kind,
      rtpParameters: {
        codecs: [
          {
            ...codec,
            payloadType: stream.payloadType,
            rtcpFeedback: stream.track.kind === 'video' ? VIDEO_FEEDBACK : [],
          },
        ],
        encodings: [{ ssrc: stream.ssrc }],
        rtcp: { cname: stream.track.cname, reducedSize: true },
      },
      appData: { whepRelay: this.id, stream: stream.key },
    });
    if (this.#closed || stream.track.streams.get(stream.mime) !== stream) {
      producer.close();
      throw new RelayClosedError('the program relay closed');
    }
    const output: Output = { egress, stream, producer, users: 0 };
    egress.outputs.set(stream.key, output);
    stream.outputs.add(output);
    producer.observer.once('close', () => this.#forgetOutput(output));
    return output;
  }

  #stream(track: Track, mime: RelayMime): Stream {
    const existing = track.streams.get(mime);
    if (existing) return existing;
    let ssrc = randomInt(1, 0xffffffff);
    while (this.#streams.has(ssrc) || this.#inputs.has(ssrc)) ssrc = randomInt(1, 0xffffffff);
    const stream: Stream = {
      key: `${track.key}|${mime}`,
      track,
      mime,
      ssrc,
      payloadType: STREAM_PAYLOAD_TYPE[mime],
      clockRate: relayCodec(mime).clockRate,
      started: false,
      lastSeq: 0,
      lastTs: 0,
      lastAt: 0,
      packets: 0,
      octets: 0,
      outputs: new Set(),
    };
    track.streams.set(mime, stream);
    this.#streams.set(ssrc, stream);
    return stream;
  }

  // ── following the program ──────────────────────────────────────────────────────────────────

  #track(selector: Selector, kind: types.MediaKind): Track {
    const key = `${selectorKey(selector)}|${kind}`;
    const existing = this.#tracks.get(key);
    if (existing) return existing;
    const track: Track = {
      key,
      selector,
      kind,
      cname: `${selectorKey(selector)}@${this.id}`,
      holds: 0,
      wanted: undefined,
      generation: 0,
      active: undefined,
      pending: undefined,
      switching: Promise.resolve(),
      streams: new Map(),
      graceTimer: undefined,
      retryTimer: undefined,
      lastKeyFrameRequest: 0,
    };
    this.#tracks.set(key, track);
    this.#retarget(track);
    return track;
  }

  #onNotification<N extends NotificationName>(name: N, _payload: NotificationOf<N>): void {
    // The room's sources or program changed (at an edge: the site's, as mirrored).
    if (name === 'room:state' || name === 'program:state') {
      for (const track of this.#tracks.values()) this.#retarget(track);
    }
  }

  /** The producer a track should play now: its source's camera (or mic), if it has one. */
  #desired(track: Track): string | undefined {
    const snapshot = this.#room.snapshot();
    const sourceId =
      track.selector.kind === 'program' ? snapshot.program.programSourceId : track.selector.sourceId;
    if (!sourceId) return undefined;
    const source = snapshot.sources.find((s) => s.sourceId === sourceId);
    const purpose = track.kind === 'video' ? 'camera' : 'mic';
    const tracks = source?.tracks.filter((t) => t.kind === track.kind) ?? [];
    return (tracks.find((t) => t.purpose === purpose) ?? tracks[0])?.producerId;
  }

  #retarget(track: Track): void {
    if (this.#closed || this.#tracks.get(track.key) !== track) return;
    const want = this.#desired(track);
    if (want === track.wanted) return;
    track.wanted = want;
    track.generation += 1;
    clearTimeout(track.retryTimer);
    clearTimeout(track.graceTimer);
    if (track.pending) {
      this.#drop(track.pending);
      track.pending = undefined;
    }
    if (want === undefined) {
      // Nothing on program (or the source has no such track): players get nothing, not the
      // previous source.
      if (track.active) this.#drop(track.active);
      track.active = undefined;
      return;
    }
    if (track.active?.producerId === want) return;
    track.switching = this.#switch(track, want, track.generation);
  }

  /** Consumes `producerId` as the track's next input; the first packet it sends makes the cut. */
  async #switch(track: Track, producerId: string, generation: number): Promise<void> {
    const current = () => generation === track.generation && !this.#closed;
    let consumer: types.Consumer;
    try {
      consumer = await this.#room.consume(this.#peer, {
        transportId: this.#input.id,
        producerId,
        rtpCapabilities: this.#inputCapabilities(track.kind),
        // No spatialLayer: mediasoup then prefers the top simulcast layer, and a plain transport
        // has no bandwidth estimate to lower it.
      });
    } catch (error) {
      if (!current()) return;
      this.#log.debug('relay cannot consume the source yet', {
        room: this.#room.id,
        track: track.key,
        error: String(error),
      });
      // Never keep playing the previous source after a cut: it is no longer the program.
      if (track.active) this.#drop(track.active);
      track.active = undefined;
      track.wanted = undefined;
      track.retryTimer = setTimeout(() => this.#retarget(track), RETRY_MS);
      track.retryTimer.unref();
      return;
    }
    if (!current() || this.#tracks.get(track.key) !== track) {
      consumer.close();
      return;
    }
    const codec = consumer.rtpParameters.codecs[0];
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (!codec || ssrc === undefined) {
      consumer.close();
      return;
    }
    const input: Input = {
      consumer,
      producerId,
      ssrc,
      mime: codec.mimeType.toLowerCase() as RelayMime,
      stream: undefined,
      seqDelta: 0,
      tsDelta: 0,
    };
    this.#inputs.set(ssrc, { track, input });
    consumer.observer.once('close', () => this.#onInputClosed(track, input));
    track.pending = input;
    try {
      // mediasoup drops the consumer's packets until a key frame and asks the source for one on
      // resume; ask explicitly too, so a cut does not wait for the source's next periodic one.
      await this.#room.resumeConsumer(this.#peer, consumer.id);
      if (track.kind === 'video') await consumer.requestKeyFrame();
    } catch {
      // Closed meanwhile: #onInputClosed has dealt with it.
      return;
    }
    if (track.pending === input && track.active) {
      track.graceTimer = setTimeout(() => {
        if (track.pending !== input || !track.active) return;
        this.#log.warn('no key frame from the new program source yet: stopping the old one', {
          room: this.#room.id,
          track: track.key,
        });
        this.#drop(track.active);
        track.active = undefined;
      }, this.#options.keyframeWaitMs ?? KEYFRAME_WAIT_MS);
      track.graceTimer.unref();
    }
  }

  /** The router's codecs of one kind, without RTX, feedback or header extensions. */
  #inputCapabilities(kind: types.MediaKind): RtpCapabilities {
    const caps = this.#room.wireRtpCapabilities;
    return {
      codecs: (caps.codecs ?? [])
        .filter((c) => c.kind === kind && !c.mimeType.toLowerCase().endsWith('/rtx'))
        .map((c) => ({ ...c, rtcpFeedback: [] })),
      headerExtensions: [],
    };
  }

  /** An input consumer closed by itself (its producer or the pipe went away). */
  #onInputClosed(track: Track, input: Input): void {
    if (this.#inputs.get(input.ssrc)?.input !== input) return; // dropped on purpose
    this.#inputs.delete(input.ssrc);
    if (track.active === input) track.active = undefined;
    if (track.pending === input) track.pending = undefined;
    track.wanted = undefined;
    // The room state that follows usually retargets; this covers a producer that left alone.
    setImmediate(() => this.#retarget(track));
  }

  #drop(input: Input): void {
    if (this.#inputs.get(input.ssrc)?.input === input) this.#inputs.delete(input.ssrc);
    if (!input.consumer.closed) input.consumer.close();
  }

  #promote(track: Track): void {
    const next = track.pending;
    if (!next) return;
    clearTimeout(track.graceTimer);
    const previous = track.active;
    track.active = next;
    track.pending = undefined;
    if (previous) this.#drop(previous);
  }

  #stopTrack(track: Track): void {
    track.generation += 1;
    clearTimeout(track.graceTimer);
    clearTimeout(track.retryTimer);
    if (track.pending) this.#drop(track.pending);
    if (track.active) this.#drop(track.active);
    track.pending = undefined;
    track.active = undefined;
    for (const stream of track.streams.values()) {
      for (const output of stream.outputs) output.producer.close();
      this.#streams.delete(stream.ssrc);
    }
    track.streams.clear();
  }

  // ── the data path ──────────────────────────────────────────────────────────────────────────

  #onMessage(packet: Buffer): void {
    if (this.#closed) return;
    if (isRtcp(packet)) {
      this.#onRtcp(packet);
      return;
    }
    if (!isRtp(packet)) return;
    const header = readRtp(packet);
    const entry = this.#inputs.get(header.ssrc);
    if (!entry) return;
    const { track, input } = entry;
    if (input === track.pending) this.#promote(track);
    if (input !== track.active) return;
    const stream = track.streams.get(input.mime);
    if (!stream || stream.outputs.size === 0) return;
    const now = performance.now();
    if (input.stream !== stream) {
      // The first packet of this source in this stream: continue where the stream left off.
      const seq = stream.started ? (stream.lastSeq + 1) & 0xffff : randomInt(0, 0x8000);
      const elapsed = Math.max(1, Math.round(((now - stream.lastAt) * stream.clockRate) / 1000));
      const ts = stream.started ? (stream.lastTs + elapsed) >>> 0 : randomInt(0, 0x7fffffff);
      input.seqDelta = (seq - header.sequenceNumber) & 0xffff;
      input.tsDelta = (ts - header.timestamp) >>> 0;
      input.stream = stream;
    }
    const sequenceNumber = (header.sequenceNumber + input.seqDelta) & 0xffff;
    const timestamp = (header.timestamp + input.tsDelta) >>> 0;
    rewriteRtp(packet, { payloadType: stream.payloadType, sequenceNumber, timestamp, ssrc: stream.ssrc });
    if (!stream.started || seqAfter(sequenceNumber, stream.lastSeq)) {
      stream.lastSeq = sequenceNumber;
      stream.lastTs = timestamp;
      stream.lastAt = now;
    }
    stream.started = true;
    stream.packets += 1;
    stream.octets += packet.length - 12;
    for (const output of stream.outputs) this.#send(packet, output.egress.port);
  }

  #onRtcp(packet: Buffer): void {
    // Players asking for a key frame (through their consumers and the egress producers).
    for (const ssrc of keyFrameRequests(packet)) {
      const stream = this.#streams.get(ssrc);
      const input = stream?.track.active ?? stream?.track.pending;
      if (!stream || !input) continue;
      const now = performance.now();
      if (now - stream.track.lastKeyFrameRequest < KEYFRAME_REQUEST_INTERVAL_MS) continue;
      stream.track.lastKeyFrameRequest = now;
      input.consumer.requestKeyFrame().catch(() => {});
    }
    // The current source's sender reports, on the stream's SSRC and timeline.
    for (const report of senderReports(packet)) {
      const entry = this.#inputs.get(report.ssrc);
      const stream = entry?.input.stream;
      if (!entry || !stream || entry.input !== entry.track.active) continue;
      const rewritten = senderReport({
        ...report,
        ssrc: stream.ssrc,
        rtpTimestamp: (report.rtpTimestamp + entry.input.tsDelta) >>> 0,
        packetCount: stream.packets,
        octetCount: stream.octets,
      });
      for (const output of stream.outputs) this.#send(rewritten, output.egress.port);
    }
  }

  #send(packet: Buffer, port: number): void {
    this.#socket.send(packet, port, LOOPBACK, () => {
      // A closed egress port: the output is being torn down.
    });
  }
}
