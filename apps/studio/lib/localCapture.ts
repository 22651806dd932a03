import {
  type CanvasTestPattern,
  createTestPattern,
  QUALITY_PRESETS,
  type Quality,
} from '@microstudio/client';
import { cameraConstraints, microphoneConstraints, TEST_PATTERN } from './captureDevices.ts';
import { LatestCapture } from './latestCapture.ts';

/**
 * Capturing in this browser what a camera (/camera) and a remote guest (/join) send alike: the
 * devices there are, the video source (a camera or the test pattern) and the microphone.
 */

/** A captured video source: a camera's track, or the test pattern drawing one. */
export interface VideoCapture {
  track: MediaStreamTrack;
  /** Set for the test pattern: it is renamed live and stopped with its drawing timer. */
  pattern: CanvasTestPattern | null;
  mirrored: boolean;
}

export interface VideoRequest {
  /** A video source choice: the test pattern, `facing:…` or `device:…`. */
  source: string;
  quality: Quality;
  /** The name the test pattern shows. */
  name: string;
  /** The test pattern's colour (`#rrggbb`); default: one picked from the name. */
  color?: string;
  /** A guest's webcam faces its user (see cameraConstraints). */
  selfie: boolean;
}

/** The devices this browser lists; null where it cannot list them. */
export async function listDevices(): Promise<MediaDeviceInfo[] | null> {
  if (!navigator.mediaDevices?.enumerateDevices) return null;
  return navigator.mediaDevices.enumerateDevices();
}

/** Captures the requested video source, at the quality's size and frame rate. */
async function captureVideo(request: VideoRequest): Promise<VideoCapture> {
  if (request.source === TEST_PATTERN) {
    const preset = QUALITY_PRESETS[request.quality];
    const pattern = createTestPattern({
      name: request.name,
      width: preset.width,
      height: preset.height,
      fps: preset.frameRate,
      ...(request.color ? { color: request.color } : {}),
    });
    return { track: pattern.track, pattern, mirrored: false };
  }
  const { constraints, mirrored } = cameraConstraints(request.source, request.quality, request.selfie);
  const stream = await navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
  const [track] = stream.getVideoTracks();
  if (!track) throw new Error('the camera gave no video track');
  return { track, pattern: null, mirrored };
}

/** Stops a captured video source (the pattern's timer with it). */
function stopVideo(capture: VideoCapture): void {
  capture.pattern?.stop();
  capture.track.stop();
}

/**
 * The video source a page previews and, live, publishes: the newest capture of the chosen camera
 * or of the test pattern (see LatestCapture for why the newest, and when the old one stops).
 */
export class LocalVideo {
  readonly #latest: LatestCapture<VideoCapture>;

  /** `onError` hears a capture that failed (a denied permission, a camera in use). */
  constructor(onError: (error: unknown) => void) {
    this.#latest = new LatestCapture(stopVideo, onError);
  }

  /**
   * Captures `request`; `adopt` shows it (and, live, publishes it) before the previous capture
   * stops. Resolves true once adopted, false when it failed or a newer start() overtook it.
   */
  start(request: VideoRequest, adopt: (capture: VideoCapture) => Promise<void>): Promise<boolean> {
    return this.#latest.replace(() => captureVideo(request), adopt);
  }

  /** The test pattern draws the page's name: it follows a rename (a camera ignores it). */
  rename(name: string): void {
    this.#latest.current?.pattern?.setName(name);
  }

  close(): void {
    this.#latest.close();
  }
}

/** Captures the chosen microphone; null for "No microphone" or where the browser cannot capture. */
export async function captureMicrophone(value: string): Promise<MediaStreamTrack | null> {
  const audio = microphoneConstraints(value);
  if (!audio || !navigator.mediaDevices?.getUserMedia) return null;
  const stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
  return stream.getAudioTracks()[0] ?? null;
}
