import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  colorForName,
  formatClock,
  hashString,
  PATTERN_COLORS,
  parseHexColor,
  textColorOn,
} from '../src/colors.ts';
import { textBox } from '../src/testPattern.ts';

describe('test pattern colours', () => {
  it('colorForName() is stable and always one of the 8 palette colours', () => {
    assert.equal(PATTERN_COLORS.length, 8);
    for (const name of ['Cam A', 'Cam B', 'Wide', '', 'Ünïcødé 📷']) {
      assert.equal(colorForName(name), colorForName(name));
      assert.ok(PATTERN_COLORS.includes(colorForName(name)));
    }
  });

  it('hashString() is FNV-1a (known vector) so browsers and Node agree', () => {
    assert.equal(hashString(''), 0x811c9dc5);
    assert.equal(hashString('a'), 0xe40c292c);
  });

  it('colorForName() spreads common names over several colours', () => {
    const used = new Set(
      ['Cam 1', 'Cam 2', 'Cam 3', 'Cam 4', 'Cam 5', 'Cam 6', 'Cam 7', 'Cam 8'].map(colorForName),
    );
    assert.ok(used.size >= 4, `only ${used.size} colours used`);
  });

  it('palette colours are pairwise far apart (corner sampling can tell them apart)', () => {
    const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    for (let i = 0; i < PATTERN_COLORS.length; i++) {
      for (let j = i + 1; j < PATTERN_COLORS.length; j++) {
        const a = rgb(PATTERN_COLORS[i]!);
        const b = rgb(PATTERN_COLORS[j]!);
        const distance = Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
        assert.ok(distance > 90, `${PATTERN_COLORS[i]} vs ${PATTERN_COLORS[j]}: ${distance}`);
      }
    }
  });

  it('parseHexColor() accepts #rrggbb only', () => {
    assert.equal(parseHexColor('#FF0000'), '#ff0000');
    assert.equal(parseHexColor(' #00ff00 '), '#00ff00');
    assert.equal(parseHexColor('ff0000'), null);
    assert.equal(parseHexColor('#f00'), null);
    assert.equal(parseHexColor('red'), null);
    assert.equal(parseHexColor(null), null);
  });

  it('textColorOn() picks black on yellow and white on blue', () => {
    assert.equal(textColorOn('#ffe119'), '#000000');
    assert.equal(textColorOn('#4363d8'), '#ffffff');
  });

  it('formatClock() is HH:MM:SS.mmm', () => {
    assert.equal(formatClock(new Date(2024, 0, 1, 9, 5, 7, 42)), '09:05:07.042');
  });

  it('textBox() is the centre third, leaving a border wider than 15% on each side', () => {
    const box = textBox(1280, 720);
    assert.ok(box.x >= 1280 * 0.15 && box.x + box.w <= 1280 * 0.85);
    assert.ok(box.y >= 720 * 0.15 && box.y + box.h <= 720 * 0.85);
  });
});
