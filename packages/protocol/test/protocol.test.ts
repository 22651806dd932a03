import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  INVITE_USES_CEILING,
  MAX_INVITE_USES,
  MAX_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES_SETTING,
  MIN_MESSAGE_BYTES_SETTING,
  notifications,
  requestNames,
  requests,
  resultSchema,
  TRANSPORT_MAX_BYTES,
  tallyOf,
  transportMaxBytes,
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

describe('limits', () => {
  it('invite:create takes any use count up to the one ceiling tokens also carry (the node checks its configured max)', () => {
    const invite = (uses: number) =>
      validateRequest('invite:create', { role: 'guest', ttlSeconds: 3600, uses });
    assert.ok(MAX_INVITE_USES <= INVITE_USES_CEILING);
    assert.equal(invite(INVITE_USES_CEILING).ok, true);
    const over = invite(INVITE_USES_CEILING + 1);
    assert.equal(!over.ok && over.error.code, ErrorCode.BadRequest);
  });

  it('a configured message limit is enforced as given, under a transport cap above it', () => {
    const payload = { ...validRequests['room:join'], padding: 'x'.repeat(MIN_MESSAGE_BYTES_SETTING) };
    const small = validateRequest('room:join', payload, MIN_MESSAGE_BYTES_SETTING);
    assert.equal(!small.ok && small.error.code, ErrorCode.MessageTooLarge);
    assert.match(
      !small.ok ? small.error.message : '',
      new RegExp(`the ${MIN_MESSAGE_BYTES_SETTING}-byte limit`),
    );
    assert.equal(validateRequest('room:join', payload).ok, true, 'the same payload under the default limit');
    for (const limit of [MIN_MESSAGE_BYTES_SETTING, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES_SETTING])
      assert.ok(transportMaxBytes(limit) > limit);
    assert.equal(TRANSPORT_MAX_BYTES, transportMaxBytes(MAX_MESSAGE_BYTES));
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
