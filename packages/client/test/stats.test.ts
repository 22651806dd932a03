import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gradeVideo, readInboundAudioLevel, readInboundVideo } from '../src/stats.ts';

const report = (...stats: object[]) => new Map(stats.map((s, i) => [String(i), s]));

describe('stats readers', () => {
  it('readInboundVideo() reads the inbound-rtp video entry and ignores others', () => {
    const r = report(
      { type: 'outbound-rtp', kind: 'video', framesEncoded: 99 },
      {
        type: 'inbound-rtp',
        kind: 'video',
        framesDecoded: 120,
        framesPerSecond: 30,
        frameWidth: 320,
        frameHeight: 180,
      },
      { type: 'inbound-rtp', kind: 'audio', audioLevel: 0.2 },
    );
    const video = readInboundVideo(r);
    assert.equal(video?.framesDecoded, 120);
    assert.equal(video?.framesPerSecond, 30);
    assert.equal(video?.frameWidth, 320);
    assert.equal(readInboundVideo(report({ type: 'codec' })), null);
  });

  it('readInboundAudioLevel() clamps to 0..1 and is null without audio', () => {
    assert.equal(
      readInboundAudioLevel(report({ type: 'inbound-rtp', kind: 'audio', audioLevel: 0.25 })),
      0.25,
    );
    assert.equal(readInboundAudioLevel(report({ type: 'inbound-rtp', kind: 'audio', audioLevel: 3 })), 1);
    assert.equal(readInboundAudioLevel(report({ type: 'inbound-rtp', kind: 'video' })), null);
  });

  it('gradeVideo() is lost without new frames, poor on heavy loss, good otherwise', () => {
    const base = {
      framesDecoded: 100,
      framesPerSecond: 30,
      frameWidth: 320,
      frameHeight: 180,
      packetsLost: 0,
      packetsReceived: 1000,
      bytesReceived: 0,
      timestamp: 0,
    };
    assert.equal(gradeVideo(null, null), 'lost');
    assert.equal(gradeVideo(base, base), 'lost');
    assert.equal(gradeVideo(base, { ...base, framesDecoded: 130, packetsReceived: 1100 }), 'good');
    assert.equal(
      gradeVideo(base, { ...base, framesDecoded: 130, packetsReceived: 1080, packetsLost: 20 }),
      'poor',
    );
    assert.equal(
      gradeVideo(base, { ...base, framesDecoded: 115, framesPerSecond: 15, packetsReceived: 1100 }),
      'fair',
    );
  });
});
