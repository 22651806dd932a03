import { drawTimeCode, timeCodeRegion } from '@microstudio/telemetry';
import { colorForName, formatClock, parseHexColor, textColorOn } from './colors.ts';

export interface TestPatternOptions {
  name: string;
  /** `#rrggbb`; default: a stable colour picked from the name. */
  color?: string;
  width?: number;
  height?: number;
  fps?: number;
}

export interface TestPattern {
  track: MediaStreamTrack;
  color: string;
  stop(): void;
}

export interface CanvasTestPattern extends TestPattern {
  /** Redraws with another name (the colour stays: it identifies the source). */
  setName(name: string): void;
}

/** The text box occupies the centre third: everything outside it is pure source colour. */
export function textBox(width: number, height: number): { x: number; y: number; w: number; h: number } {
  return { x: width / 3, y: height / 3, w: width / 3, h: height / 3 };
}

/**
 * A synthetic camera: the whole frame in the source colour, the name large and a running clock
 * (HH:MM:SS.mmm) in the centre third, and a machine-readable capture time code (wall-clock ms,
 * @microstudio/telemetry) in a band near the bottom, for glass-to-glass latency. The outer border,
 * corners especially, is always the pure source colour, so tests can identify a source from a
 * corner pixel.
 */
export function createTestPattern({
  name: initialName,
  color,
  width = 1280,
  height = 720,
  fps = 30,
}: TestPatternOptions): CanvasTestPattern {
  let name = initialName;
  const fill = parseHexColor(color) ?? colorForName(initialName);
  const ink = textColorOn(fill);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { alpha: false });
  if (!context) throw new Error('2D canvas is not available');
  const ctx = context;
  const box = textBox(width, height);
  const codeRegion = timeCodeRegion(width, height);

  const fitFont = (text: string, maxHeight: number, weight: string): string => {
    let size = Math.floor(maxHeight);
    ctx.font = `${weight} ${size}px system-ui, sans-serif`;
    const measured = ctx.measureText(text).width;
    if (measured > box.w * 0.92) size = Math.floor((size * box.w * 0.92) / measured);
    return `${weight} ${Math.max(size, 8)}px system-ui, sans-serif`;
  };
  let nameFont = fitFont(name, box.h * 0.4, '700');
  const clockFont = fitFont('00:00:00.000', box.h * 0.25, '500');

  const draw = () => {
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, width, height);
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    ctx.fillStyle = ink;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.font = nameFont;
    ctx.fillText(name, width / 2, box.y + box.h * 0.35);
    ctx.font = clockFont;
    ctx.fillText(formatClock(new Date()), width / 2, box.y + box.h * 0.75);
    ctx.restore();
    // Its capture time, read back by receivers (TimeCodeReader) for glass-to-glass latency.
    drawTimeCode(ctx, performance.timeOrigin + performance.now(), codeRegion);
  };

  draw();
  const stream = canvas.captureStream(fps);
  const [track] = stream.getVideoTracks();
  if (!track) throw new Error('canvas.captureStream() gave no video track');
  // setInterval, not requestAnimationFrame: a camera tab in the background must keep sending.
  const timer = setInterval(draw, Math.max(1, Math.round(1000 / fps)));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    track.stop();
  };
  track.addEventListener('ended', stop);
  const setName = (next: string) => {
    name = next;
    nameFont = fitFont(name, box.h * 0.4, '700');
  };
  return { track, color: fill, stop, setName };
}

/** A quiet 440 Hz tone as a microphone stand-in (optional; fake capture devices exist too). */
export function createTestTone(frequency = 440, gain = 0.05): TestPattern {
  const audio = new AudioContext();
  const oscillator = audio.createOscillator();
  const level = audio.createGain();
  const destination = audio.createMediaStreamDestination();
  oscillator.frequency.value = frequency;
  level.gain.value = gain;
  oscillator.connect(level).connect(destination);
  oscillator.start();
  const [track] = destination.stream.getAudioTracks();
  if (!track) throw new Error('AudioContext gave no audio track');
  let stopped = false;
  return {
    track,
    color: '',
    stop() {
      if (stopped) return;
      stopped = true;
      oscillator.stop();
      track.stop();
      void audio.close();
    },
  };
}
