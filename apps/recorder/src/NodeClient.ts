import type {
  CutEntry,
  RecorderSource,
  RecorderStatus,
  RecordingInfo,
  RecordingPlan,
} from '@microstudio/protocol';
import { NodeApiError } from './errors.ts';

export type { RecordingAnchor, RecordingInfo, RecordingRtp } from '@microstudio/protocol';
export type SourceInfo = RecorderSource;

/**
 * The media node's internal recorder API (/internal/recorder/v1), authenticated with a
 * `recorder` token (MICROSTUDIO_RECORDER_TOKEN) as the Bearer credential.
 */
export class NodeClient {
  readonly #base: string;
  readonly #token: string;

  constructor(nodeUrl: string, token: string) {
    this.#base = `${nodeUrl.replace(/\/$/, '')}/internal/recorder/v1`;
    this.#token = token;
  }

  async sources(roomId: string): Promise<SourceInfo[]> {
    return (await this.room(roomId)).sources;
  }

  /** The room's sources (each with whether the plan records it) and the plan. */
  room(roomId: string): Promise<{ sources: SourceInfo[]; plan: RecordingPlan }> {
    return this.#call('GET', `/rooms/${encodeURIComponent(roomId)}/sources`);
  }

  /** The recorder's status for the control room (404 when the room is not open). */
  async report(roomId: string, status: RecorderStatus): Promise<void> {
    await this.#call('POST', `/rooms/${encodeURIComponent(roomId)}/status`, status);
  }

  /** Program changes after `after` (a sequence number; -1: all the node kept). */
  cuts(roomId: string, after: number): Promise<{ cuts: CutEntry[]; next: number; oldest: number }> {
    return this.#call('GET', `/rooms/${encodeURIComponent(roomId)}/cuts?after=${after}`);
  }

  start(body: {
    roomId: string;
    producerId: string;
    ip: string;
    rtpPort: number;
    rtcpPort: number;
  }): Promise<RecordingInfo> {
    return this.#call('POST', '/recordings', body);
  }

  resume(recordingId: string): Promise<RecordingInfo> {
    return this.#call('POST', `/recordings/${encodeURIComponent(recordingId)}/resume`);
  }

  get(recordingId: string): Promise<RecordingInfo> {
    return this.#call('GET', `/recordings/${encodeURIComponent(recordingId)}`);
  }

  async keyframe(recordingId: string): Promise<void> {
    await this.#call('POST', `/recordings/${encodeURIComponent(recordingId)}/keyframe`);
  }

  async stop(recordingId: string): Promise<void> {
    await this.#call('DELETE', `/recordings/${encodeURIComponent(recordingId)}`);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new NodeApiError(0, `media node unreachable at ${this.#base}: ${String(error)}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new NodeApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
