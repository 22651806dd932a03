import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { qualityOf, type ScoredProducer } from '../src/rooms/quality.ts';

const scored = (kind: 'audio' | 'video', scores: number[], paused = false): ScoredProducer => ({
  kind,
  paused,
  score: scores.map((score, encodingIdx) => ({ encodingIdx, ssrc: 1000 + encodingIdx, score })),
});

describe('qualityOf()', () => {
  test('is good before any score arrives and for a paused producer', () => {
    assert.equal(qualityOf([]), 'good');
    assert.equal(qualityOf([scored('video', [])]), 'good');
    assert.equal(qualityOf([scored('video', [0, 0, 0], true)]), 'good');
  });

  test('classes the best simulcast stream of the video: 8+ good, 5+ fair, 1+ poor, 0 lost', () => {
    assert.equal(qualityOf([scored('video', [10, 9, 3])]), 'good');
    assert.equal(qualityOf([scored('video', [6, 2, 0])]), 'fair');
    assert.equal(qualityOf([scored('video', [1, 0, 0])]), 'poor');
    assert.equal(qualityOf([scored('video', [0, 0, 0])]), 'lost');
  });

  test('video decides over audio; audio decides when there is no video', () => {
    assert.equal(qualityOf([scored('audio', [10]), scored('video', [0])]), 'lost');
    assert.equal(qualityOf([scored('audio', [4])]), 'poor');
  });
});
