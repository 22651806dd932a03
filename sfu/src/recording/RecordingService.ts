import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { BadRequestError, InvalidStateError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { RecordingAnchor, RecordingInfo, RecordingRtp, StartRecordingBody } from './schemas.ts';

/** Closed recordings are kept (with their reason) so the recorder can learn why; this many at most. */
const MAX_TOMBSTONES = 256;

interface Recording {
  id: string;
  roomId: string;
  sourceId: string;
  transport: types.PlainTransport;
  consumer: types.Consumer;
  rtp: RecordingRtp;
  anchor: RecordingAnchor | null;
  closedReason: string | null;
}

/**
 * Recording consumers: one PlainTransport + one consumer per recorded producer, on the room's
 * router but owned by no peer — the recorder is not a participant (it does not count against
 * room limits, nor keep a room open). mediasoup's cascades end a recording when its producer,
 * its router (room closed, worker died) or its transport closes.
 */
export class RecordingService {
  readonly #registry: RoomRegistry;
  readonly #log: Logger;
  readonly #recordings = new Map<string, Recording>();

  constructor(options: { registry: RoomRegistry; logger: Logger }) {
    this.#registry = options.registry;
    this.#log = options.logger;
  }

  /** An open room (not recovering), or a NotFoundError. */
  room(roomId: string): Room {
    const room = this.#registry.get(roomId);
    if (!room) throw new NotFoundError('room', roomId);
    if (room.recovering) throw new InvalidStateError(`room "${roomId}" is being recovered`);
    return room;
  }

  /** Creates the transport, connects it to the recorder and consumes the producer, paused. */
  async start(body: StartRecordingBody): Promise<RecordingInfo> {
    const room = this.room(body.roomId);
    const owner = room.peers().find((p) => p.producers.has(body.producerId));
    if (!owner) throw new NotFoundError('producer', body.producerId);
    const router = room.router;
    const rtpCapabilities = recorderCapabilities(router.rtpCapabilities);
    if (!router.canConsume({ producerId: body.producerId, rtpCapabilities }))
      throw new BadRequestError('the recorder cannot receive this producer (codec)');
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: sendingAddress(body.ip) },
      rtcpMux: false,
      comedia: false,
    });
    try {
      await transport.connect({ ip: body.ip, port: body.rtpPort, rtcpPort: body.rtcpPort });
      const consumer = await transport.consume({
        producerId: body.producerId,
        rtpCapabilities,
        paused: true,
        // The top simulcast layer (mediasoup clamps to the highest the producer has).
        preferredLayers: { spatialLayer: 15, temporalLayer: 15 },
      });
      const recording: Recording = {
        id: randomUUID(),
        roomId: room.id,
        sourceId: owner.clientId,
        transport,
        consumer,
        rtp: rtpOf(consumer),
        anchor: null,
        closedReason: null,
      };
      this.#recordings.set(recording.id, recording);
      consumer.on('producerclose', () => this.#ended(recording, 'producer closed'));
      consumer.on('transportclose', () => this.#ended(recording, 'transport closed (room closed?)'));
      transport.on('routerclose', () => this.#ended(recording, 'room closed or its media worker died'));
      this.#log.info('recording started', {
        recording: recording.id,
        room: room.id,
        source: recording.sourceId,
        kind: consumer.kind,
        to: `${body.ip}:${body.rtpPort}`,
      });
      return this.#info(recording);
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * Resumes the consumer (mediasoup then waits for a keyframe before forwarding video) and asks
   * for a keyframe. Resolves with the show-clock anchor once the first packet went out, or null
   * if none did within `anchorWaitMs` (then GET the recording later).
   */
  async resume(recordingId: string, anchorWaitMs = 3000): Promise<RecordingInfo> {
    const recording = this.#open(recordingId);
    const { consumer } = recording;
    const anchored = recording.anchor ? Promise.resolve() : this.#captureAnchor(recording, anchorWaitMs);
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
    await anchored;
    return this.#info(recording);
  }

  async requestKeyFrame(recordingId: string): Promise<void> {
    const recording = this.#open(recordingId);
    if (recording.consumer.kind !== 'video') throw new BadRequestError('keyframes apply to video only');
    await recording.consumer.requestKeyFrame();
  }

  get(recordingId: string): RecordingInfo {
    const recording = this.#recordings.get(recordingId);
    if (!recording) throw new NotFoundError('recording', recordingId);
    return this.#info(recording);
  }

  list(): RecordingInfo[] {
    return [...this.#recordings.values()].map((r) => this.#info(r));
  }

  /** Stops and forgets a recording (open or already ended). */
  stop(recordingId: string): void {
    const recording = this.#recordings.get(recordingId);
    if (!recording) throw new NotFoundError('recording', recordingId);
    this.#recordings.delete(recordingId);
    recording.transport.close();
    this.#log.info('recording stopped', { recording: recordingId });
  }

  close(): void {
    for (const recording of this.#recordings.values()) recording.transport.close();
    this.#recordings.clear();
  }

  #open(recordingId: string): Recording {
    const recording = this.#recordings.get(recordingId);
    if (!recording) throw new NotFoundError('recording', recordingId);
    if (recording.closedReason !== null)
      throw new InvalidStateError(`recording "${recordingId}" ended: ${recording.closedReason}`);
    return recording;
  }

  /** The first packet out after resume is the one ffmpeg starts its timestamps from. */
  async #captureAnchor(recording: Recording, waitMs: number): Promise<void> {
    const { consumer } = recording;
    let timer: NodeJS.Timeout | undefined;
    await consumer.enableTraceEvent(['rtp']);
    await new Promise<void>((resolve) => {
      const onTrace = (trace: types.ConsumerTraceEventData): void => {
        const timestamp = rtpTimestampOf(trace);
        if (trace.type !== 'rtp' || trace.direction !== 'out' || timestamp === undefined) return;
        recording.anchor = { rtpTimestamp: timestamp, wallClockMs: Date.now() };
        done();
      };
      const done = (): void => {
        clearTimeout(timer);
        consumer.off('trace', onTrace);
        resolve();
      };
      consumer.on('trace', onTrace);
      timer = setTimeout(done, waitMs);
    });
    // One packet is all we need; tracing every packet would cost the worker.
    if (!consumer.closed) await consumer.enableTraceEvent([]).catch(() => {});
  }

  #ended(recording: Recording, reason: string): void {
    if (recording.closedReason !== null) return;
    recording.closedReason = reason;
    if (!recording.transport.closed) recording.transport.close();
    this.#log.warn('recording ended', { recording: recording.id, source: recording.sourceId, reason });
    const closed = [...this.#recordings.values()].filter((r) => r.closedReason !== null);
    for (const old of closed.slice(0, Math.max(0, closed.length - MAX_TOMBSTONES)))
      this.#recordings.delete(old.id);
  }

  #info(recording: Recording): RecordingInfo {
    const { consumer } = recording;
    return {
      recordingId: recording.id,
      roomId: recording.roomId,
      producerId: consumer.producerId,
      sourceId: recording.sourceId,
      kind: consumer.kind,
      paused: consumer.paused,
      closedReason: recording.closedReason,
      anchor: recording.anchor,
      rtp: recording.rtp,
    };
  }
}

/** Loopback to a recorder on this box (the usual case), any interface to one elsewhere. */
function sendingAddress(recorderIp: string): string {
  const v6 = recorderIp.includes(':');
  if (recorderIp === '::1' || recorderIp.startsWith('127.')) return v6 ? '::1' : '127.0.0.1';
  return v6 ? '::' : '0.0.0.0';
}

/**
 * What ffmpeg can receive: the router's media codecs without RTX (ffmpeg sends no NACKs), no RTCP
 * feedback and no header extensions (nothing to negotiate them with).
 */
function recorderCapabilities(router: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: (router.codecs ?? [])
      .filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx'))
      .map((c) => ({ ...c, rtcpFeedback: [] })),
    headerExtensions: [],
  };
}

function rtpOf(consumer: types.Consumer): RecordingRtp {
  const codec = consumer.rtpParameters.codecs[0];
  const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
  if (!codec || ssrc === undefined) throw new InvalidStateError('consumer has no codec or SSRC');
  const parameters: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(codec.parameters ?? {}))
    if (typeof value === 'string' || typeof value === 'number') parameters[key] = value;
  return {
    payloadType: codec.payloadType,
    mimeType: codec.mimeType,
    clockRate: codec.clockRate,
    ...(codec.channels !== undefined ? { channels: codec.channels } : {}),
    parameters,
    ssrc,
  };
}

/** The RTP timestamp in an 'rtp' trace (mediasoup's unpacked flatbuffers dump). */
function rtpTimestampOf(trace: types.ConsumerTraceEventData): number | undefined {
  const packet = (trace.info as { rtpPacket?: { timestamp?: unknown } } | undefined)?.rtpPacket;
  const value = packet?.timestamp;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}
