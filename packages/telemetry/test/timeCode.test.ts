import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  drawTimeCode,
  type RectPainter,
  type Region,
  readTimeCode,
  TIME_CODE_COLUMNS,
  TIME_CODE_MODULUS,
  TIME_CODE_ROWS,
  timeCodeBits,
  timeCodeCell,
  timeCodeCrc,
  timeCodeRegion,
  timeCodeValue,
  unwrapTimeCode,
} from '../src/index.ts';

// ---- synthetic frames -------------------------------------------------------------------------

interface Frame {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** A deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseColor(style: unknown): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(String(style));
  if (!match) throw new Error(`unexpected fillStyle ${String(style)}`);
  return [parseInt(match[1] ?? '0', 16), parseInt(match[2] ?? '0', 16), parseInt(match[3] ?? '0', 16)];
}

/** A canvas stand-in: fills the pixels whose centres lie inside the rectangle. */
function painter(frame: Frame): RectPainter {
  return {
    fillStyle: '#000000',
    fillRect(x, y, w, h) {
      const [r, g, b] = parseColor(this.fillStyle);
      const x0 = Math.max(0, Math.ceil(x - 0.5));
      const x1 = Math.min(frame.width - 1, Math.ceil(x + w - 0.5) - 1);
      const y0 = Math.max(0, Math.ceil(y - 0.5));
      const y1 = Math.min(frame.height - 1, Math.ceil(y + h - 0.5) - 1);
      for (let py = y0; py <= y1; py++) {
        for (let px = x0; px <= x1; px++) {
          const i = (py * frame.width + px) * 4;
          frame.data[i] = r;
          frame.data[i + 1] = g;
          frame.data[i + 2] = b;
          frame.data[i + 3] = 255;
        }
      }
    },
  };
}

/** A test-pattern-like frame: a source colour, a darker text box in the centre third, the code. */
function patternFrame(width: number, height: number, timeMs: number | null, color = '#3a7bd5'): Frame {
  const frame: Frame = { data: new Uint8ClampedArray(width * height * 4), width, height };
  const ctx = painter(frame);
  ctx.fillStyle = color;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#101820';
  ctx.fillRect(width / 3, height / 3, width / 3, height / 3);
  if (timeMs !== null) drawTimeCode(ctx, timeMs, timeCodeRegion(width, height));
  return frame;
}

function mapPixels(frame: Frame, f: (v: number, x: number, y: number) => number): Frame {
  const data = new Uint8ClampedArray(frame.data.length);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = f(frame.data[i + c] ?? 0, x, y);
      data[i + 3] = 255;
    }
  }
  return { ...frame, data };
}

/** Box-filter downscale by an integer factor (what a simulcast layer's scaler roughly does). */
function downscale(frame: Frame, factor: number): Frame {
  const width = Math.floor(frame.width / factor);
  const height = Math.floor(frame.height / factor);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++)
          for (let dx = 0; dx < factor; dx++)
            sum += frame.data[((y * factor + dy) * frame.width + x * factor + dx) * 4 + c] ?? 0;
        data[(y * width + x) * 4 + c] = Math.round(sum / (factor * factor));
      }
    }
  }
  return { data, width, height };
}

/** 3×3 box blur (edges clamp). */
function blur(frame: Frame): Frame {
  const { width, height } = frame;
  const data = new Uint8ClampedArray(frame.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const sx = Math.min(width - 1, Math.max(0, x + dx));
            const sy = Math.min(height - 1, Math.max(0, y + dy));
            sum += frame.data[(sy * width + sx) * 4 + c] ?? 0;
          }
        }
        data[(y * width + x) * 4 + c] = Math.round(sum / 9);
      }
    }
  }
  return { data, width, height };
}

/** Luma noise up to ±amplitude, triangular (the sum of two uniforms: Gaussian-ish), per pixel. */
function noise(frame: Frame, amplitude: number, seed: number): Frame {
  const random = prng(seed);
  const data = new Uint8ClampedArray(frame.data);
  for (let i = 0; i < data.length; i += 4) {
    const n = (random() + random() - 1) * amplitude;
    for (let c = 0; c < 3; c++) data[i + c] = (data[i + c] ?? 0) + n;
  }
  return { ...frame, data };
}

const brightnessContrast = (frame: Frame, contrast: number, brightness: number): Frame =>
  mapPixels(frame, (v) => (v - 128) * contrast + 128 + brightness);

/** Paints cells of the code in the opposite colour (as a codec artefact or an overlay could). */
function flipCells(frame: Frame, timeMs: number, cells: readonly [column: number, row: number][]): Frame {
  const copy: Frame = { ...frame, data: new Uint8ClampedArray(frame.data) };
  const bits = timeCodeBits(timeMs);
  const region = timeCodeRegion(frame.width, frame.height);
  const ctx = painter(copy);
  for (const [column, row] of cells) {
    let white: boolean;
    if (column === 0 || column === TIME_CODE_COLUMNS - 1) white = true;
    else if (column === 1 || column === TIME_CODE_COLUMNS - 2) white = false;
    else white = bits[row * (TIME_CODE_COLUMNS - 4) + column - 2] === true;
    const cell = timeCodeCell(region, column, row);
    ctx.fillStyle = white ? '#000000' : '#ffffff';
    ctx.fillRect(cell.x, cell.y, cell.width, cell.height);
  }
  return copy;
}

const read = (frame: Frame, region?: Region) => readTimeCode(frame.data, frame.width, frame.height, region);

const NOW = 1_764_130_000_123.4; // 2025-11-26, with a fraction as performance.timeOrigin + now() has
const TIMES = [0, 1, 12345, NOW, TIME_CODE_MODULUS - 1, TIME_CODE_MODULUS + 7, 2 ** 52];

// ---- tests ------------------------------------------------------------------------------------

describe('time code layout', () => {
  it('sits in a bottom band away from the corners and the centre third, 32 px cells at 720p', () => {
    assert.deepEqual(timeCodeRegion(1280, 720), { x: 128, y: 640, width: 1024, height: 64 });
    const cell = timeCodeCell(timeCodeRegion(1280, 720), 0, 0);
    assert.deepEqual(cell, { x: 128, y: 640, width: 32, height: 32 });
    // Quarter size: still 8 × 8 px cells, at the same place relative to the frame.
    assert.deepEqual(timeCodeCell(timeCodeRegion(320, 180), 5, 1), { x: 72, y: 168, width: 8, height: 8 });
  });

  it('carries 40 bits of time and a CRC-16 of it; the value is whole ms modulo 2^40', () => {
    assert.equal(timeCodeBits(NOW).length, TIME_CODE_ROWS * (TIME_CODE_COLUMNS - 4));
    assert.equal(timeCodeValue(1.9), 1);
    assert.equal(timeCodeValue(TIME_CODE_MODULUS + 5), 5);
    assert.equal(timeCodeValue(-1), TIME_CODE_MODULUS - 1);
    assert.throws(() => timeCodeValue(Number.NaN), RangeError);
    // CRC-16/CCITT-FALSE of the bytes "12345" (a reference implementation gives 0x4560).
    assert.equal(timeCodeCrc(0x3132333435), 0x4560);
  });

  it('unwraps a code to the full time nearest to the reader clock', () => {
    const value = timeCodeValue(NOW);
    assert.equal(unwrapTimeCode(value, NOW + 250), Math.floor(NOW));
    assert.equal(unwrapTimeCode(value, NOW - 90_000), Math.floor(NOW));
    // Across a wrap of the 40-bit counter.
    const t = 3 * TIME_CODE_MODULUS - 10;
    assert.equal(unwrapTimeCode(timeCodeValue(t), t + 20), t);
  });
});

describe('readTimeCode(drawTimeCode(t)) on synthetic frames', () => {
  it('is exact at 1280×720', () => {
    for (const t of TIMES) assert.equal(read(patternFrame(1280, 720, t)), timeCodeValue(t), `t=${t}`);
  });

  it('survives a 4× box downscale to 320×180 (the lowest simulcast layer)', () => {
    for (const t of TIMES) {
      const small = downscale(patternFrame(1280, 720, t), 4);
      assert.equal(small.width, 320);
      assert.equal(read(small), timeCodeValue(t), `t=${t}`);
    }
  });

  it('survives ±20 luma noise, at full size and downscaled', () => {
    for (const [i, t] of TIMES.entries()) {
      const frame = patternFrame(1280, 720, t);
      assert.equal(read(noise(frame, 20, i + 1)), timeCodeValue(t));
      assert.equal(read(noise(downscale(frame, 4), 20, i + 100)), timeCodeValue(t));
    }
  });

  it('survives a 3×3 box blur of the downscaled frame', () => {
    for (const t of TIMES)
      assert.equal(read(blur(downscale(patternFrame(1280, 720, t), 4))), timeCodeValue(t));
  });

  it('adapts to brightness and contrast changes and a brightness gradient along the band', () => {
    const t = NOW;
    const frame = downscale(patternFrame(1280, 720, t), 4);
    for (const [contrast, brightness] of [
      [0.5, 0],
      [0.4, 60],
      [0.6, -50],
      [1.3, 20],
      [0.86, -16], // full range squeezed to video range (16–235)
    ] as const) {
      assert.equal(
        read(brightnessContrast(frame, contrast, brightness)),
        timeCodeValue(t),
        `${contrast}/${brightness}`,
      );
    }
    const gradient = mapPixels(frame, (v, x) => v * 0.55 + (x / frame.width) * 90);
    assert.equal(read(gradient), timeCodeValue(t));
  });

  it('survives everything at once: downscale, blur, noise, low contrast', () => {
    const t = NOW;
    const frame = brightnessContrast(noise(blur(downscale(patternFrame(1280, 720, t), 4)), 20, 7), 0.6, 30);
    assert.equal(read(frame), timeCodeValue(t));
  });

  it('works at other sizes and aspect ratios: 640×360 (and its 160×90 layer), portrait 720×1280, 1920×1080', () => {
    assert.equal(read(patternFrame(640, 360, NOW)), timeCodeValue(NOW));
    assert.equal(read(downscale(patternFrame(640, 360, NOW), 4)), timeCodeValue(NOW));
    assert.equal(read(downscale(patternFrame(720, 1280, NOW), 2)), timeCodeValue(NOW));
    assert.equal(read(noise(patternFrame(1920, 1080, NOW), 20, 3)), timeCodeValue(NOW));
  });

  it('reads a code drawn into a caller-chosen region', () => {
    const frame = patternFrame(640, 480, null);
    const region = { x: 20, y: 30, width: 320, height: 24 };
    drawTimeCode(painter(frame), NOW, region);
    assert.equal(read(frame, region), timeCodeValue(NOW));
    assert.equal(read(frame), null, 'not where the default region is');
  });
});

describe('readTimeCode refuses what is not an intact code (null, never a wrong time)', () => {
  it('null without a code, on a uniform or random frame, and on bad arguments', () => {
    assert.equal(read(patternFrame(1280, 720, null)), null);
    assert.equal(read(patternFrame(1280, 720, null, '#ffffff')), null);
    const random = prng(42);
    const junk = {
      width: 320,
      height: 180,
      data: new Uint8ClampedArray(320 * 180 * 4).map(() => random() * 256),
    };
    assert.equal(read(junk), null);
    assert.equal(readTimeCode(new Uint8ClampedArray(10), 320, 180), null);
    assert.equal(readTimeCode(new Uint8ClampedArray(4), 1, 1), null, 'cells too small');
    assert.equal(read(patternFrame(320, 180, NOW), { x: 300, y: 0, width: 100, height: 20 }), null);
  });

  it('null when a guard cell is damaged', () => {
    for (const column of [0, 1, TIME_CODE_COLUMNS - 2, TIME_CODE_COLUMNS - 1]) {
      for (const row of [0, 1])
        assert.equal(read(flipCells(patternFrame(1280, 720, NOW), NOW, [[column, row]])), null);
    }
  });

  it('null when half the code is covered (an overlay)', () => {
    const frame = patternFrame(1280, 720, NOW);
    const ctx = painter(frame);
    ctx.fillStyle = '#808080';
    ctx.fillRect(500, 600, 800, 120);
    assert.equal(read(frame), null);
  });

  it('null for a cell halfway between black and white (unreadable rather than guessed)', () => {
    const frame = patternFrame(1280, 720, NOW);
    const cell = timeCodeCell(timeCodeRegion(1280, 720), 10, 0);
    const ctx = painter(frame);
    ctx.fillStyle = '#808080';
    ctx.fillRect(cell.x, cell.y, cell.width, cell.height);
    assert.equal(read(frame), null);
  });

  it('property: 1 to 3 flipped data or CRC cells are always detected, also after downscale and noise', () => {
    const dataCell = fc.tuple(
      fc.integer({ min: 2, max: TIME_CODE_COLUMNS - 3 }),
      fc.integer({ min: 0, max: 1 }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 44 }),
        fc.uniqueArray(dataCell, { minLength: 1, maxLength: 3, selector: ([c, r]) => `${c}/${r}` }),
        fc.integer(),
        (t, cells, seed) => {
          const damaged = flipCells(patternFrame(640, 360, t), t, cells);
          assert.equal(read(damaged), null);
          assert.equal(read(noise(downscale(damaged, 2), 20, seed)), null);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('property: random times round-trip', () => {
  it('any time survives downscale, blur, noise and a contrast change, and unwraps to itself', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: -(2 ** 38), max: 2 ** 38 }),
        fc.integer(),
        fc.double({ min: 0.45, max: 1.2, noNaN: true }),
        (t, skew, seed, contrast) => {
          const frame = brightnessContrast(
            noise(blur(downscale(patternFrame(640, 360, t), 2)), 20, seed),
            contrast,
            10,
          );
          const value = read(frame);
          assert.equal(value, timeCodeValue(t));
          assert.equal(unwrapTimeCode(value ?? -1, t + skew), t);
        },
      ),
      { numRuns: 120 },
    );
  });
});
