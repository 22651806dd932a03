import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuality, QUALITY_PRESETS, simulcastEncodings, startBitrateKbps } from '../src/presets.ts';

describe('quality presets', () => {
  it('simulcastEncodings() gives r0/r1/r2 scaled 4/2/1, lowest first', () => {
    for (const quality of ['low', 'standard', 'high'] as const) {
      const encodings = simulcastEncodings(quality);
      assert.deepEqual(
        encodings.map((e) => [e.rid, e.scaleResolutionDownBy]),
        [
          ['r0', 4],
          ['r1', 2],
          ['r2', 1],
        ],
      );
      const bitrates = encodings.map((e) => e.maxBitrate);
      assert.ok(bitrates[0]! < bitrates[1]! && bitrates[1]! < bitrates[2]!, `${quality}: ${bitrates}`);
    }
  });

  it('the low layer is ~150 kbps and the top layer is 1.5 M (standard) / 2.5 M (high)', () => {
    assert.equal(simulcastEncodings('standard')[0]!.maxBitrate, 150_000);
    assert.equal(simulcastEncodings('standard')[2]!.maxBitrate, 1_500_000);
    assert.equal(simulcastEncodings('high')[2]!.maxBitrate, 2_500_000);
  });

  it('labels match the camera page (Low 360p / Standard 720p / High 1080p)', () => {
    assert.deepEqual(
      Object.values(QUALITY_PRESETS).map((p) => [p.label, p.height]),
      [
        ['Low 360p', 360],
        ['Standard 720p', 720],
        ['High 1080p', 1080],
      ],
    );
  });

  it('parseQuality() falls back to standard', () => {
    assert.equal(parseQuality('high'), 'high');
    assert.equal(parseQuality('ultra'), 'standard');
    assert.equal(parseQuality(null), 'standard');
  });
});

describe('startBitrateKbps()', () => {
  it('covers all three layers of the preset, in kbit/s', () => {
    assert.equal(startBitrateKbps('standard'), 2150);
    assert.equal(startBitrateKbps('high'), 3150);
    assert.ok(startBitrateKbps('low') < startBitrateKbps('standard'));
  });
});
