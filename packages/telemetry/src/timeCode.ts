/**
 * A capture time code drawn into video frames and read back from decoded pixels, for
 * glass-to-glass latency: the source stamps its wall clock into every frame, a receiver reads it
 * from what it renders and subtracts it from its own clock.
 *
 * Layout: a grid of TIME_CODE_COLUMNS × TIME_CODE_ROWS black/white cells. Every row starts with a
 * white, black guard pair and ends with a black, white pair: they prove the code is there and give
 * the reader the luma of white and black at both ends of the row, so the threshold adapts to
 * brightness, contrast and gradients. The 2 × 28 cells in between carry 56 bits, MSB first and
 * row by row: the time in ms modulo 2^40 (40 bits, about 35 years) and a CRC-16 of it (16 bits).
 * A read that fails a guard, a margin or the CRC is null, never a wrong time: one, two or three
 * wrong cells are always detected (CRC-16/CCITT has Hamming distance 4 at this length).
 *
 * Cells are sized from the frame (timeCodeRegion): 32 × 32 px at 1280 × 720, so still 8 × 8 px
 * in the quarter-size simulcast layer, larger than a codec's smallest transform block. Everything
 * here is pure: drawing needs only `fillStyle` and `fillRect`, reading only an RGBA buffer.
 */

export const TIME_CODE_COLUMNS = 32;
export const TIME_CODE_ROWS = 2;
/** Bits of time carried: the time is in ms modulo 2^TIME_CODE_TIME_BITS. */
export const TIME_CODE_TIME_BITS = 40;
export const TIME_CODE_MODULUS = 2 ** TIME_CODE_TIME_BITS;
const CRC_BITS = 16;
const GUARD_COLUMNS = 2;
const DATA_COLUMNS = TIME_CODE_COLUMNS - 2 * GUARD_COLUMNS;
const DATA_BITS = DATA_COLUMNS * TIME_CODE_ROWS;
/** Least luma difference between the white and black guards of a row for the code to count. */
const MIN_CONTRAST = 40;
/** A cell closer to the threshold than this share of the row's contrast is unreadable: null. */
const MARGIN = 0.15;

if (DATA_BITS !== TIME_CODE_TIME_BITS + CRC_BITS) throw new Error('time code layout does not add up');

/** A rectangle of a frame, in pixels (fractions allowed). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * What drawTimeCode needs of a 2D context: a CanvasRenderingContext2D, an OffscreenCanvas context
 * or a test double. `fillStyle` is set to '#ffffff' or '#000000'.
 */
export interface RectPainter {
  fillStyle: unknown;
  fillRect(x: number, y: number, width: number, height: number): void;
}

/**
 * Where the code sits in a width × height frame: a band 80 % of the width wide, centred, near the
 * bottom (from 88.9 % to 97.8 % of the height; 1280 × 720: x 128–1152, y 640–704). It is
 * proportional to the frame, so the same function finds it in any simulcast layer of it, and it
 * leaves the corners and the centre third of the frame alone.
 */
export function timeCodeRegion(width: number, height: number): Region {
  const cellHeight = height / 22.5;
  return {
    x: width * 0.1,
    y: height - 2.5 * cellHeight,
    width: width * 0.8,
    height: TIME_CODE_ROWS * cellHeight,
  };
}

/** The pixel rectangle of one cell (edges rounded, so neighbouring cells neither overlap nor gap). */
export function timeCodeCell(region: Region, column: number, row: number): Region {
  const cw = region.width / TIME_CODE_COLUMNS;
  const ch = region.height / TIME_CODE_ROWS;
  const x0 = Math.round(region.x + column * cw);
  const x1 = Math.round(region.x + (column + 1) * cw);
  const y0 = Math.round(region.y + row * ch);
  const y1 = Math.round(region.y + (row + 1) * ch);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of a 40-bit value's 5 bytes, MSB first. */
export function timeCodeCrc(value: number): number {
  let crc = 0xffff;
  for (let i = 4; i >= 0; i--) {
    const byte = Math.floor(value / 2 ** (8 * i)) % 256;
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The time a code carries for `timeMs`: whole ms modulo 2^40 (negative times wrap too). */
export function timeCodeValue(timeMs: number): number {
  if (!Number.isFinite(timeMs)) throw new RangeError('timeMs must be a finite number');
  const ms = Math.floor(timeMs);
  return ((ms % TIME_CODE_MODULUS) + TIME_CODE_MODULUS) % TIME_CODE_MODULUS;
}

/** The 56 data bits (true = white): 40 bits of time then 16 of CRC, MSB first. */
export function timeCodeBits(timeMs: number): boolean[] {
  const value = timeCodeValue(timeMs);
  const crc = timeCodeCrc(value);
  const bits: boolean[] = [];
  for (let i = TIME_CODE_TIME_BITS - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2 === 1);
  for (let i = CRC_BITS - 1; i >= 0; i--) bits.push(((crc >> i) & 1) === 1);
  return bits;
}

/** Whether cell (column, row) is white for these data bits: guards are fixed, data follows. */
function cellIsWhite(bits: readonly boolean[], column: number, row: number): boolean {
  if (column === 0 || column === TIME_CODE_COLUMNS - 1) return true;
  if (column === 1 || column === TIME_CODE_COLUMNS - 2) return false;
  return bits[row * DATA_COLUMNS + (column - GUARD_COLUMNS)] === true;
}

/** Draws the code of `timeMs` (ms, e.g. performance.timeOrigin + performance.now()) over `region`. */
export function drawTimeCode(ctx: RectPainter, timeMs: number, region: Region): void {
  const bits = timeCodeBits(timeMs);
  for (let row = 0; row < TIME_CODE_ROWS; row++) {
    for (let column = 0; column < TIME_CODE_COLUMNS; column++) {
      const cell = timeCodeCell(region, column, row);
      ctx.fillStyle = cellIsWhite(bits, column, row) ? '#ffffff' : '#000000';
      ctx.fillRect(cell.x, cell.y, cell.width, cell.height);
    }
  }
}

/**
 * Reads the code from an RGBA frame (e.g. ImageData.data): the time in ms modulo 2^40, or null
 * when no intact code is there. It averages the luma of the middle of each cell, thresholds it
 * halfway between the row's white and black guards (interpolated along the row), and refuses
 * faint guards, cells too close to the threshold and a CRC mismatch.
 */
export function readTimeCode(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  region: Region = timeCodeRegion(width, height),
): number | null {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return null;
  if (rgba.length < width * height * 4) return null;
  const cw = region.width / TIME_CODE_COLUMNS;
  const ch = region.height / TIME_CODE_ROWS;
  if (!(cw >= 2 && ch >= 2)) return null;
  if (region.x < 0 || region.y < 0 || region.x + region.width > width || region.y + region.height > height)
    return null;

  /** Mean luma (BT.601) of the pixels whose centres lie in the middle 60 % of a cell. */
  const cellLuma = (column: number, row: number): number => {
    const cx = region.x + (column + 0.5) * cw;
    const cy = region.y + (row + 0.5) * ch;
    const rx = cw * 0.3;
    const ry = ch * 0.3;
    let x0 = Math.ceil(cx - rx - 0.5);
    let x1 = Math.floor(cx + rx - 0.5);
    let y0 = Math.ceil(cy - ry - 0.5);
    let y1 = Math.floor(cy + ry - 0.5);
    if (x1 < x0) x0 = x1 = Math.floor(cx);
    if (y1 < y0) y0 = y1 = Math.floor(cy);
    x0 = Math.max(0, x0);
    y0 = Math.max(0, y0);
    x1 = Math.min(width - 1, x1);
    y1 = Math.min(height - 1, y1);
    let sum = 0;
    let n = 0;
    for (let y = y0; y <= y1; y++) {
      let i = (y * width + x0) * 4;
      for (let x = x0; x <= x1; x++, i += 4) {
        sum += 0.299 * (rgba[i] ?? 0) + 0.587 * (rgba[i + 1] ?? 0) + 0.114 * (rgba[i + 2] ?? 0);
        n += 1;
      }
    }
    return n > 0 ? sum / n : 0;
  };

  const bits: boolean[] = [];
  for (let row = 0; row < TIME_CODE_ROWS; row++) {
    const leftWhite = cellLuma(0, row);
    const leftBlack = cellLuma(1, row);
    const rightBlack = cellLuma(TIME_CODE_COLUMNS - 2, row);
    const rightWhite = cellLuma(TIME_CODE_COLUMNS - 1, row);
    const contrast = Math.min(leftWhite - leftBlack, rightWhite - rightBlack);
    if (!(contrast >= MIN_CONTRAST)) return null;
    const leftMid = (leftWhite + leftBlack) / 2;
    const rightMid = (rightWhite + rightBlack) / 2;
    // The guard pairs' centres are at columns 0.5 and 30.5: interpolate the threshold between them.
    const span = TIME_CODE_COLUMNS - 2;
    const margin = MARGIN * contrast;
    for (let column = GUARD_COLUMNS; column < TIME_CODE_COLUMNS - GUARD_COLUMNS; column++) {
      const mid = leftMid + ((rightMid - leftMid) * (column - 0.5)) / span;
      const luma = cellLuma(column, row);
      if (Math.abs(luma - mid) < margin) return null;
      bits.push(luma > mid);
    }
  }

  let value = 0;
  for (let i = 0; i < TIME_CODE_TIME_BITS; i++) value = value * 2 + (bits[i] ? 1 : 0);
  let crc = 0;
  for (let i = TIME_CODE_TIME_BITS; i < DATA_BITS; i++) crc = (crc << 1) | (bits[i] ? 1 : 0);
  return crc === timeCodeCrc(value) ? value : null;
}

/**
 * The full time (ms since the epoch) a code's value stands for: the one nearest to `nearMs`
 * (usually the reader's own clock) among the times congruent to it modulo 2^40.
 */
export function unwrapTimeCode(value: number, nearMs: number): number {
  const near = Math.floor(nearMs);
  const base = near - timeCodeValue(near);
  let best = base + value;
  for (const candidate of [best - TIME_CODE_MODULUS, best + TIME_CODE_MODULUS]) {
    if (Math.abs(candidate - nearMs) < Math.abs(best - nearMs)) best = candidate;
  }
  return best;
}
