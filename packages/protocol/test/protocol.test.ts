import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  MAX_MESSAGE_BYTES,
  notifications,
  requestNames,
  requests,
  resultSchema,
  tallyOf,
  validateRequest,
} from '../src/index.ts';
import { invalidRequests, validNotifications, validRequests } from './fixtures.ts';

describe('requests', () => {
  it('every request has valid and invalid fixtures', () => {
    for (const name of requestNames) {
      assert.ok(name in validRequests, `no valid fixture for ${name}`);
      assert.ok((invalidRequests[name] ?? []).length > 0, `no invalid fixture for ${name}`);
    }
  });

  for (const name of requestNames) {
    it(`${name}: a valid payload is accepted`, () => {
      const result = validateRequest(name, validRequests[name]);
      assert.equal(result.ok, true, JSON.stringify(result));
    });
    for (const [why, payload] of invalidRequests[name]) {
      it(`${name}: refuses a payload with ${why} as BAD_REQUEST naming the request`, () => {
        const result = validateRequest(name, payload);
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.error.code, ErrorCode.BadRequest);
        assert.match(result.error.message, new RegExp(`invalid ${name}`));
      });
    }
  }

  it('refuses an unknown event as UNKNOWN_EVENT, also for prototype names', () => {
    for (const name of ['room:destroy', '__proto__', 'constructor', 'toString']) {
      const result = validateRequest(name, {});
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, ErrorCode.UnknownEvent);
    }
  });

  it('refuses an oversize payload as MESSAGE_TOO_LARGE before parsing it', () => {
    const big = { ...validRequests['room:join'], padding: 'x'.repeat(MAX_MESSAGE_BYTES) };
    const result = validateRequest('room:join', big);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, ErrorCode.MessageTooLarge);
  });

  it('measures size in UTF-8 bytes, not characters', () => {
    const chars = Math.floor(MAX_MESSAGE_BYTES / 3);
    const result = validateRequest('room:join', {
      ...validRequests['room:join'],
      padding: '€'.repeat(chars),
    });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, ErrorCode.MessageTooLarge);
  });

  it('refuses a cyclic payload instead of throwing', () => {
    const cyclic: Record<string, unknown> = { roomId: 'main' };
    cyclic.self = cyclic;
    const result = validateRequest('room:join', cyclic);
    assert.equal(result.ok, false);
  });

  it('strips unknown top-level fields from accepted payloads', () => {
    const result = validateRequest('program:preview', { sourceId: 'a', evil: true });
    assert.equal(result.ok, true);
    if (result.ok) assert.deepEqual(result.payload, { sourceId: 'a' });
  });

  it('trims display names', () => {
    const result = validateRequest('room:join', { ...validRequests['room:join'], displayName: '  Cam B  ' });
    assert.ok(result.ok);
    if (result.ok) assert.equal((result.payload as { displayName: string }).displayName, 'Cam B');
  });
});

describe('responses', () => {
  it('a Result schema accepts ok and error shapes and refuses unknown codes', () => {
    const schema = resultSchema(requests['producer:create'].response);
    assert.ok(schema.safeParse({ ok: true, data: { producerId: 'p' } }).success);
    assert.ok(schema.safeParse({ ok: false, error: { code: 'NOT_FOUND', message: 'x' } }).success);
    assert.ok(!schema.safeParse({ ok: false, error: { code: 'SOMETHING', message: 'x' } }).success);
    assert.ok(!schema.safeParse({ ok: true, data: {} }).success);
  });
});

describe('notifications', () => {
  for (const [name, schema] of Object.entries(notifications)) {
    it(`${name}: accepts a valid payload and refuses a wrong one`, () => {
      assert.ok(schema.safeParse(validNotifications[name as keyof typeof validNotifications]).success);
      assert.ok(!schema.safeParse({ unexpected: 1 }).success);
    });
  }

  it('program:state refuses a fade outside the duration bounds', () => {
    const bad = structuredClone(validNotifications['program:state']);
    if (bad.transition) bad.transition.durationMs = 50;
    assert.ok(!notifications['program:state'].safeParse(bad).success);
  });
});

describe('tallyOf', () => {
  const program = { programSourceId: 'a', previewSourceId: 'b', transition: null, revision: 1 };
  it('is program, preview or off by the bus', () => {
    assert.equal(tallyOf(program, 'a'), 'program');
    assert.equal(tallyOf(program, 'b'), 'preview');
    assert.equal(tallyOf(program, 'c'), 'off');
  });
  it('puts the incoming source of a fade on program', () => {
    const fading = {
      ...program,
      transition: {
        kind: 'fade' as const,
        fromSourceId: 'a',
        toSourceId: 'b',
        durationMs: 500,
        startedAt: 0,
      },
    };
    assert.equal(tallyOf(fading, 'b'), 'program');
    assert.equal(tallyOf(fading, 'a'), 'program');
  });
});
