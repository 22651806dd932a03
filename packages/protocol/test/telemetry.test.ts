import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clampTelemetry,
  ErrorCode,
  MAX_MESSAGE_BYTES,
  TELEMETRY_BOUNDS,
  TELEMETRY_MIN_INTERVAL_MS,
  type TelemetryReport,
  telemetryReportSchema,
  validateRequest,
} from '../src/index.ts';

const accepts = (payload: unknown) => validateRequest('telemetry:report', payload).ok;

function codeOf(payload: unknown): string | undefined {
  const result = validateRequest('telemetry:report', payload);
  return result.ok ? undefined : result.error.code;
}

describe('telemetry:report', () => {
  it('needs only the hop: every figure is optional', () => {
    for (const hop of ['site', 'edge', 'p2p']) assert.ok(accepts({ hop }));
    assert.equal(codeOf({}), ErrorCode.BadRequest);
  });

  it('accepts each figure at 0 and at its bound, refuses it just outside', () => {
    for (const [key, max] of Object.entries(TELEMETRY_BOUNDS)) {
      const at = (value: number) =>
        key === 'bitrateKbps'
          ? { hop: 'site', bitrateKbps: { in: value, out: value } }
          : { hop: 'site', [key]: value };
      assert.ok(accepts(at(0)), `${key} = 0`);
      assert.ok(accepts(at(max)), `${key} = ${max}`);
      assert.equal(codeOf(at(max + 1)), ErrorCode.BadRequest, `${key} above ${max}`);
      assert.equal(codeOf(at(-0.001)), ErrorCode.BadRequest, `${key} negative`);
    }
    assert.ok(accepts({ hop: 'site', battery: { level: 0, charging: false } }));
    assert.ok(accepts({ hop: 'site', battery: { level: 1, charging: true } }));
    assert.equal(codeOf({ hop: 'site', battery: { level: -0.1, charging: true } }), ErrorCode.BadRequest);
  });

  it('refuses non-finite numbers (they cannot come off JSON, but a local caller could pass them)', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(telemetryReportSchema.safeParse({ hop: 'site', rttMs: value }).success, false);
    }
  });

  it('refuses unknown keys at every level instead of stripping them', () => {
    assert.equal(codeOf({ hop: 'site', userAgent: 'x' }), ErrorCode.BadRequest);
    assert.equal(codeOf({ hop: 'site', bitrateKbps: { in: 1, total: 2 } }), ErrorCode.BadRequest);
    assert.equal(codeOf({ hop: 'site', battery: { level: 1, charging: true, x: 1 } }), ErrorCode.BadRequest);
  });

  it('refuses an oversize report as MESSAGE_TOO_LARGE before parsing it', () => {
    assert.equal(codeOf({ hop: 'site', padding: 'x'.repeat(MAX_MESSAGE_BYTES) }), ErrorCode.MessageTooLarge);
  });

  it('is rate limited by a named protocol limit', () => {
    assert.equal(TELEMETRY_MIN_INTERVAL_MS, 2000);
  });
});

describe('clampTelemetry', () => {
  it('drops only the figures the schema would refuse, so the rest of the report goes through', () => {
    const report = {
      hop: 'edge',
      startupMs: 900,
      rttMs: 70_000,
      jitterMs: Number.NaN,
      packetLossPct: -3,
      freezes: 2.4,
      bitrateKbps: { in: 2_000, out: Number.POSITIVE_INFINITY },
      glassToGlassMs: -12,
      battery: { level: 1.4, charging: true },
      networkType: 'wifi',
    } as TelemetryReport;
    const clamped = clampTelemetry(report);
    assert.deepEqual(clamped, {
      hop: 'edge',
      startupMs: 900,
      freezes: 2,
      bitrateKbps: { in: 2_000 },
      networkType: 'wifi',
    });
    assert.ok(accepts(clamped));
  });

  it('leaves out a bitrate object with nothing valid in it, and keeps a valid report as it is', () => {
    assert.deepEqual(clampTelemetry({ hop: 'site', bitrateKbps: { in: -1 } }), { hop: 'site' });
    const good: TelemetryReport = {
      hop: 'site',
      rttMs: 3,
      battery: { level: 0.5, charging: false },
      encodeMsPerFrame: 4,
    };
    assert.deepEqual(clampTelemetry(good), good);
  });
});
