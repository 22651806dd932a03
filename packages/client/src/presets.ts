/**
 * Capture and simulcast presets. Video is always sent as three simulcast layers (rids r0/r1/r2,
 * scaled 4/2/1) so the node can forward the low layer to multiviews and the top one to program.
 * Codec: VP8 (the router's first video codec). H.264 simulcast depends on the browser's
 * encoder build (Debian's Chromium has no proprietary codecs), so VP8 is the predictable choice.
 */
export type Quality = 'low' | 'standard' | 'high';

export const QUALITIES: readonly Quality[] = ['low', 'standard', 'high'];

export interface QualityPreset {
  quality: Quality;
  label: string;
  width: number;
  height: number;
  frameRate: number;
  /**
   * Simulcast layers, lowest first: how much each is scaled down and its maxBitrate (bit/s).
   * Browsers cap the layer count by resolution (Chromium sends 2 layers at 640×360, 3 from
   * 960×540 up), so the Low preset has two layers: a third would never be sent, and program
   * would be stuck on the middle one.
   */
  layers: readonly { scale: number; maxBitrate: number }[];
}

export const QUALITY_PRESETS: Readonly<Record<Quality, QualityPreset>> = {
  low: {
    quality: 'low',
    label: 'Low 360p',
    width: 640,
    height: 360,
    frameRate: 30,
    layers: [
      { scale: 2, maxBitrate: 250_000 },
      { scale: 1, maxBitrate: 800_000 },
    ],
  },
  standard: {
    quality: 'standard',
    label: 'Standard 720p',
    width: 1280,
    height: 720,
    frameRate: 30,
    layers: [
      { scale: 4, maxBitrate: 150_000 },
      { scale: 2, maxBitrate: 500_000 },
      { scale: 1, maxBitrate: 1_500_000 },
    ],
  },
  high: {
    quality: 'high',
    label: 'High 1080p',
    width: 1920,
    height: 1080,
    frameRate: 30,
    layers: [
      { scale: 4, maxBitrate: 150_000 },
      { scale: 2, maxBitrate: 500_000 },
      { scale: 1, maxBitrate: 2_500_000 },
    ],
  },
};

export function isQuality(value: unknown): value is Quality {
  return typeof value === 'string' && (QUALITIES as readonly string[]).includes(value);
}

/** Parses a `quality=` query value; anything unknown is the standard preset. */
export function parseQuality(value: string | null | undefined): Quality {
  return isQuality(value) ? value : 'standard';
}

export interface SimulcastEncoding {
  rid: string;
  scaleResolutionDownBy: number;
  maxBitrate: number;
  scalabilityMode: string;
}

/** The simulcast encodings for a preset, lowest first (as mediasoup expects). */
export function simulcastEncodings(quality: Quality): SimulcastEncoding[] {
  return QUALITY_PRESETS[quality].layers.map((layer, i) => ({
    rid: `r${i}`,
    scaleResolutionDownBy: layer.scale,
    maxBitrate: layer.maxBitrate,
    scalabilityMode: 'L1T3',
  }));
}

/** getUserMedia video constraints for a preset (ideal values: phones pick the nearest mode). */
export function videoConstraints(quality: Quality): MediaTrackConstraints {
  const p = QUALITY_PRESETS[quality];
  return { width: { ideal: p.width }, height: { ideal: p.height }, frameRate: { ideal: p.frameRate } };
}

/** Spatial layers asked of the node: 0 = lowest (multiview), 2 = top (program/preview; the node
 * clamps it to the highest layer a source has). */
export const MULTIVIEW_LAYER = 0;
export const MONITOR_LAYER = 2;

/** Sender start bitrate (kbit/s) for a preset: enough for all its layers at once. */
export function startBitrateKbps(quality: Quality): number {
  return Math.round(QUALITY_PRESETS[quality].layers.reduce((sum, layer) => sum + layer.maxBitrate, 0) / 1000);
}
