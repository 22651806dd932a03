import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { percentile, RttStats } from '../src/fabric/RttStats.ts';

describe('percentile (nearest rank)', () => {
  test('picks the smallest sample that p % of the samples are not above', () => {
    const sorted = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 10);
    assert.equal(percentile(sorted, 95), 19);
    assert.equal(percentile(sorted, 100), 20);
    assert.equal(percentile(sorted, 1), 1);
  });

  test('one sample is every percentile; none is NaN', () => {
    assert.equal(percentile([7], 50), 7);
    assert.equal(percentile([7], 95), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('out-of-range p stays within the samples', () => {
    assert.equal(percentile([1, 2, 3], 0), 1);
    assert.equal(percentile([1, 2, 3], 250), 3);
  });
});

describe('RttStats', () => {
  test('no figures before the first sample', () => {
    assert.equal(new RttStats().figures, undefined);
  });

  test('the first sample is every figure', () => {
    const stats = new RttStats();
    stats.add(12.5);
    assert.deepEqual(stats.figures, { lastMs: 12.5, smoothedMs: 12.5, p50Ms: 12.5, p95Ms: 12.5, samples: 1 });
  });

  test('the moving average weighs each new sample alpha (1/8 by default)', () => {
    const stats = new RttStats();
    stats.add(10);
    stats.add(18);
    assert.equal(stats.figures?.smoothedMs, 11);
    stats.add(3);
    assert.equal(stats.figures?.smoothedMs, 10);
    const fast = new RttStats({ alpha: 1 });
    fast.add(10);
    fast.add(40);
    assert.equal(fast.figures?.smoothedMs, 40);
  });

  test('a steady link converges to its RTT; one spike moves the average a little, p95 a lot', () => {
    const stats = new RttStats();
    for (let i = 0; i < 40; i++) stats.add(20);
    stats.add(220);
    const figures = stats.figures;
    assert.ok(figures);
    assert.equal(figures.lastMs, 220);
    assert.equal(figures.smoothedMs, 45);
    assert.equal(figures.p50Ms, 20);
    // One sample in 20 above the rest: the nearest-rank p95 is the 19th, still 20.
    assert.equal(figures.p95Ms, 20);
    stats.add(230);
    assert.equal(stats.figures?.p95Ms, 220);
  });

  test('percentiles cover only the last `window` samples', () => {
    const stats = new RttStats({ window: 20 });
    for (let i = 0; i < 20; i++) stats.add(500);
    for (let i = 1; i <= 20; i++) stats.add(i);
    const figures = stats.figures;
    assert.equal(figures?.samples, 20);
    assert.equal(figures?.p50Ms, 10);
    assert.equal(figures?.p95Ms, 19);
    const small = new RttStats({ window: 3 });
    for (const ms of [100, 1, 2, 3]) small.add(ms);
    assert.equal(small.figures?.p95Ms, 3);
    assert.equal(small.figures?.samples, 3);
  });

  test('the samples may arrive in any order: percentiles sort, the window keeps arrival order', () => {
    const stats = new RttStats({ window: 5 });
    for (const ms of [50, 10, 40, 20, 30]) stats.add(ms);
    assert.equal(stats.figures?.p50Ms, 30);
    assert.equal(stats.figures?.lastMs, 30);
    stats.add(60); // 50 leaves the window, not the largest-looking one
    assert.equal(stats.figures?.p95Ms, 60);
    assert.equal(stats.figures?.p50Ms, 30);
  });

  test('negative, NaN and infinite samples are ignored', () => {
    const stats = new RttStats();
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) stats.add(ms);
    assert.equal(stats.figures, undefined);
    stats.add(5);
    stats.add(-3);
    assert.deepEqual(stats.figures, { lastMs: 5, smoothedMs: 5, p50Ms: 5, p95Ms: 5, samples: 1 });
  });

  test('clear() forgets everything: the next sample starts afresh', () => {
    const stats = new RttStats();
    for (let i = 0; i < 10; i++) stats.add(300);
    stats.clear();
    assert.equal(stats.figures, undefined);
    stats.add(4);
    assert.deepEqual(stats.figures, { lastMs: 4, smoothedMs: 4, p50Ms: 4, p95Ms: 4, samples: 1 });
  });

  test('refuses a window or alpha that cannot work', () => {
    for (const window of [0, -1, 1.5, Number.NaN]) assert.throws(() => new RttStats({ window }), RangeError);
    for (const alpha of [0, -0.1, 1.1, Number.NaN]) assert.throws(() => new RttStats({ alpha }), RangeError);
  });
});
