import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuality, QUALITY_PRESETS, simulcastEncodings, startBitrateKbps } from '../src/presets.ts';

describe('quality presets', () => {
  it('simulcastEncodings() gives r0/r1/r2 scaled 4/2/1 for Standard and High, lowest first', () => {
    for (const quality of ['standard', 'high'] as const) {
      assert.deepEqual(
        simulcastEncodings(quality).map((e) => [e.rid, e.scaleResolutionDownBy]),
        [
          ['r0', 4],
          ['r1', 2],
          ['r2', 1],
        ],
      );
    }
  });

  it('the Low preset (640×360) has two layers, since browsers send no third one at that size', () => {
    assert.deepEqual(
      simulcastEncodings('low').map((e) => [e.rid, e.scaleResolutionDownBy]),
      [
        ['r0', 2],
        ['r1', 1],
      ],
    );
  });

  it('bitrates grow from layer to layer in every preset', () => {
    for (const quality of ['low', 'standard', 'high'] as const) {
      const bitrates = simulcastEncodings(quality).map((e) => e.maxBitrate);
      for (let i = 1; i < bitrates.length; i++)
        assert.ok(bitrates[i - 1]! < bitrates[i]!, `${quality}: ${bitrates}`);
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
    assert.equal(startBitrateKbps('low'), 1050);
  });
});
