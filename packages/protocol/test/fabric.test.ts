import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_UPLINK_RTT_MS, uplinkRttSchema } from '../src/index.ts';

describe('uplink RTT in the node announcement', () => {
  it('both figures are optional: a site, or an edge whose link is down, announces none', () => {
    assert.deepEqual(uplinkRttSchema.parse({}), {});
    assert.deepEqual(uplinkRttSchema.parse({ uplinkRttMs: 23.15 }), { uplinkRttMs: 23.15 });
  });

  it('accepts 0 and the bound, refuses negative, non-finite and out-of-bound figures', () => {
    for (const ms of [0, 0.01, 150, MAX_UPLINK_RTT_MS]) {
      assert.ok(uplinkRttSchema.safeParse({ uplinkRttMs: ms, uplinkRttP95Ms: ms }).success, `${ms}`);
    }
    for (const ms of [-0.01, MAX_UPLINK_RTT_MS + 1, Number.NaN, Number.POSITIVE_INFINITY, '20']) {
      assert.equal(
        uplinkRttSchema.safeParse({ uplinkRttMs: ms }).success,
        false,
        `uplinkRttMs ${String(ms)}`,
      );
      assert.equal(uplinkRttSchema.safeParse({ uplinkRttP95Ms: ms }).success, false, `p95 ${String(ms)}`);
    }
  });
});
