/**
 * Source colours for test patterns: eight saturated colours far apart from each other, so a
 * test (or a person) can tell sources apart by sampling one corner pixel.
 */
export const PATTERN_COLORS: readonly string[] = [
  '#e6194b', // red
  '#3cb44b', // green
  '#4363d8', // blue
  '#f58231', // orange
  '#911eb4', // purple
  '#42d4f4', // cyan
  '#f032e6', // magenta
  '#ffe119', // yellow
];

/** FNV-1a over UTF-16 code units: stable across browsers and Node. */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The default colour of a source name. */
export function colorForName(name: string): string {
  return PATTERN_COLORS[hashString(name) % PATTERN_COLORS.length] ?? '#e6194b';
}

const HEX = /^#([0-9a-f]{6})$/i;

/** Accepts `#rrggbb` (case-insensitive); returns it lower-cased, or null. */
export function parseHexColor(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = HEX.exec(value.trim());
  return match ? `#${match[1]!.toLowerCase()}` : null;
}

/** Black or white, whichever reads better on `hex`. */
export function textColorOn(hex: string): '#000000' | '#ffffff' {
  const n = Number.parseInt(hex.slice(1), 16);
  const r = (n >> 16) & 255;
  const g = (n >> 8) & 255;
  const b = n & 255;
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#000000' : '#ffffff';
}

/** HH:MM:SS.mmm of a wall-clock time, in local time. */
export function formatClock(date: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
