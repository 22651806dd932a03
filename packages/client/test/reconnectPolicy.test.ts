import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackoffReconnectPolicy, DEFAULT_RECONNECT_DELAYS_MS } from '../src/reconnectPolicy.ts';

describe('BackoffReconnectPolicy', () => {
  it('nextRetryDelayInMs() follows LiveKit delays exactly when jitter draws 0', () => {
    const policy = new BackoffReconnectPolicy({ random: () => 0 });
    const delays = [0, 1, 2, 3, 4, 5].map((retryCount) =>
      policy.nextRetryDelayInMs({ retryCount, elapsedMs: 0 }),
    );
    assert.deepEqual(delays, [0, 300, 1200, 2700, 4800, 7000]);
  });

  it('nextRetryDelayInMs() stays at the last delay after the list, and never gives up by default', () => {
    const policy = new BackoffReconnectPolicy({ random: () => 0 });
    assert.equal(policy.nextRetryDelayInMs({ retryCount: 50, elapsedMs: 3_600_000 }), 7000);
  });

  it('nextRetryDelayInMs() adds jitter within [base, base * 1.3] and keeps the first retry immediate', () => {
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      const policy = new BackoffReconnectPolicy({ random: () => r });
      assert.equal(policy.nextRetryDelayInMs({ retryCount: 0, elapsedMs: 0 }), 0);
      DEFAULT_RECONNECT_DELAYS_MS.forEach((base, retryCount) => {
        const delay = policy.nextRetryDelayInMs({ retryCount, elapsedMs: 0 });
        assert.ok(
          delay !== null && delay >= base && delay <= Math.round(base * 1.3),
          `${retryCount}: ${delay}`,
        );
      });
    }
  });

  it('nextRetryDelayInMs() with real randomness spreads retries (not all equal)', () => {
    const policy = new BackoffReconnectPolicy();
    const samples = new Set(
      Array.from({ length: 50 }, () => policy.nextRetryDelayInMs({ retryCount: 5, elapsedMs: 0 })),
    );
    assert.ok(samples.size > 1);
  });

  it('nextRetryDelayInMs() returns null after maxRetries or maxElapsedMs', () => {
    const policy = new BackoffReconnectPolicy({ maxRetries: 3, maxElapsedMs: 10_000, random: () => 0 });
    assert.equal(policy.nextRetryDelayInMs({ retryCount: 2, elapsedMs: 0 }), 1200);
    assert.equal(policy.nextRetryDelayInMs({ retryCount: 3, elapsedMs: 0 }), null);
    assert.equal(policy.nextRetryDelayInMs({ retryCount: 1, elapsedMs: 10_000 }), null);
  });

  it('new BackoffReconnectPolicy() with bad options throws TypeError', () => {
    assert.throws(() => new BackoffReconnectPolicy({ delaysMs: [] }), TypeError);
    assert.throws(() => new BackoffReconnectPolicy({ delaysMs: [-1] }), TypeError);
    assert.throws(() => new BackoffReconnectPolicy({ jitterRatio: 2 }), TypeError);
  });
});
