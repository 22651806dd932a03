import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  type NotificationName,
  notifications,
  requestNames,
  requests,
  resultSchema,
  telemetryReportSchema,
} from '../src/index.ts';
import { checkJsonSchema, type JsonSchema, type JsonSchemaObject } from '../src/jsonSchema.ts';
import { checkAnswer, checkNotification, isNotificationName } from '../src/wire.ts';
import { buildWireSchemas, toWireSchema, wireSchemasModule } from '../src/wireSchemaSource.ts';
import { validNotifications } from './fixtures.ts';

/** mulberry32: a seeded generator, so a failing sample can be made again from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Samples values near `schema`: valid ones, and — at a random node, with probability `mutate` —
 * ones broken in the ways senders break messages (wrong type, a bound crossed, a field missing
 * or unexpected, a value outside an enum). Whether each sample is valid is for zod to say.
 */
function sample(schema: JsonSchema, random: () => number, mutate: number, depth = 0): unknown {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  if (typeof schema === 'boolean') return pick([null, 1, 'x', true, {}, []]);
  if (random() < mutate) return breakValue(schema, random, depth);
  if ('const' in schema) return schema.const;
  if (schema.enum) return pick(schema.enum);
  const options = schema.oneOf ?? schema.anyOf;
  if (options) return sample(pick(options), random, mutate, depth + 1);
  const type = Array.isArray(schema.type) ? pick(schema.type) : schema.type;
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return random() < 0.5;
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? min + 12, min + 12);
      const length = random() < 0.2 ? (schema.maxLength ?? max) : int(min, max);
      return 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(length / 26) + 1).slice(0, length);
    }
    case 'integer':
    case 'number': {
      const min =
        schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000);
      const max =
        schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1e6);
      const lo = Math.max(min, -1e6);
      const hi = Math.min(max, 1e6);
      const whole = random() < 0.2 ? pick([min, max]) : int(Math.ceil(lo), Math.floor(hi));
      return type === 'number' && random() < 0.3 && whole + 0.5 <= max ? whole + 0.5 : whole;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const count = int(min, Math.min(schema.maxItems ?? min + 3, min + 3));
      return Array.from({ length: count }, () => sample(schema.items ?? true, random, mutate, depth + 1));
    }
    case 'object': {
      const value: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [name, inner] of Object.entries(schema.properties ?? {})) {
        if (required.has(name) || random() < 0.5) value[name] = sample(inner, random, mutate, depth + 1);
      }
      if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
        for (let i = int(0, 2); i > 0; i--) {
          const name = schema.propertyNames ? String(sample(schema.propertyNames, random, 0)) : `k${i}`;
          if (!(name in value)) value[name] = sample(schema.additionalProperties, random, mutate, depth + 1);
        }
      }
      return value;
    }
    default:
      return pick([null, 0, '', {}]);
  }
}

function breakValue(schema: JsonSchemaObject, random: () => number, depth: number): unknown {
  const valid = sample(schema, random, 0, depth);
  const ways: (() => unknown)[] = [
    () => (typeof valid === 'string' ? 7 : 'seven'),
    () => null,
    () => (Array.isArray(valid) ? {} : [valid]),
  ];
  if (typeof valid === 'string')
    ways.push(
      () => 'x'.repeat((schema.maxLength ?? 300) + 1),
      () => '',
    );
  if (typeof valid === 'number')
    ways.push(
      () => valid + 0.5,
      () => (schema.maximum ?? schema.exclusiveMaximum ?? 1e15) + 1,
      () => (schema.minimum ?? schema.exclusiveMinimum ?? -1e15) - 1,
    );
  if (Array.isArray(valid)) ways.push(() => [...valid, ...Array(schema.maxItems ?? 1).fill(valid[0] ?? 1)]);
  if (schema.enum) ways.push(() => 'not-an-option');
  if (valid && typeof valid === 'object' && !Array.isArray(valid)) {
    const keys = Object.keys(valid);
    ways.push(
      () => ({ ...valid, unexpected: 1 }),
      () => {
        const copy: Record<string, unknown> = { ...valid };
        if (keys.length > 0) delete copy[keys[Math.floor(random() * keys.length)] as string];
        return copy;
      },
    );
  }
  return (ways[Math.floor(random() * ways.length)] as () => unknown)();
}

const compiled = buildWireSchemas();

const validJoinAnswer = {
  peerId: 'peer-1',
  role: 'viewer',
  routerRtpCapabilities: { codecs: [], headerExtensions: [] },
  iceServers: [],
  room: validNotifications['room:state'],
};

const cases: [string, z.ZodType, JsonSchema][] = [
  ...requestNames.map(
    (name) =>
      [`${name} (answer)`, resultSchema(requests[name].response), compiled.answers[name]] as [
        string,
        z.ZodType,
        JsonSchema,
      ],
  ),
  ['telemetry:report (what pages send)', telemetryReportSchema, compiled.telemetryReport],
  ...Object.entries(notifications).map(
    ([name, schema]) =>
      [name, schema as z.ZodType, compiled.notifications[name] as JsonSchema] as [
        string,
        z.ZodType,
        JsonSchema,
      ],
  ),
];

describe('wire schemas (what clients check nodes’ messages with)', () => {
  it('the generated module is current (else: npm run generate -w @microstudio/protocol)', async () => {
    const committed = await readFile(new URL('../src/generated/wireSchemas.ts', import.meta.url), 'utf8');
    // Compared as a flag: the file is one 40 KB line, a diff of it says nothing.
    assert.ok(committed === wireSchemasModule(), 'src/generated/wireSchemas.ts is out of date');
  });

  it('covers every answer and every notification', () => {
    assert.deepEqual(Object.keys(compiled.answers).sort(), [...requestNames].sort());
    assert.deepEqual(Object.keys(compiled.notifications).sort(), Object.keys(notifications).sort());
  });

  for (const [name, zodSchema, jsonSchema] of cases) {
    it(`${name}: the checker and zod agree on 400 generated and broken samples`, () => {
      const seed = [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);
      const random = rng(seed);
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < 400; i++) {
        // A quarter valid by construction, then broken at a few nodes, then at many.
        const value = sample(jsonSchema, random, i < 100 ? 0 : i < 250 ? 0.04 : 0.2);
        const byZod = zodSchema.safeParse(value).success;
        const failure = checkJsonSchema(jsonSchema, value);
        assert.equal(
          failure === null,
          byZod,
          `seed ${seed} sample ${i}: zod ${byZod ? 'accepts' : 'refuses'}, the checker ${
            failure === null ? 'accepts' : `refuses (${failure})`
          }: ${JSON.stringify(value).slice(0, 600)}`,
        );
        if (byZod) accepted++;
        else refused++;
      }
      // Both outcomes must be exercised, or agreement proves little.
      assert.ok(accepted >= 50, `only ${accepted} of the samples were valid`);
      assert.ok(refused >= 20, `only ${refused} of the samples were invalid`);
    });
  }

  it('accepts the fixture notifications and a refusal answer', () => {
    for (const [name, payload] of Object.entries(validNotifications)) {
      assert.ok(isNotificationName(name));
      const checked = checkNotification(name as NotificationName, payload);
      assert.ok(checked.ok, `${name}: ${checked.ok ? '' : checked.reason}`);
    }
    const refusal = { ok: false, error: { code: 'NOT_JOINED', message: 'join a room first' } };
    assert.equal(requests['room:join'].response.safeParse(refusal).success, false);
    const checked = checkAnswer('room:join', refusal);
    assert.equal(checked.ok, resultSchema(requests['room:join'].response).safeParse(refusal).success);
  });

  it('says where and why a message is refused', () => {
    const checked = checkNotification('consumer:closed', { consumerId: '' });
    assert.deepEqual(checked, { ok: false, reason: '/consumerId: shorter than 1' });
    const state = structuredClone(validNotifications['room:state']);
    (state.sources[0] as { displayName: unknown }).displayName = 42;
    const refused = checkNotification('room:state', state);
    assert.equal(refused.ok, false);
    assert.match(
      refused.ok ? '' : refused.reason,
      /^\/sources\/0\/displayName: expected string, got a number$/,
    );
    // Of a Result's two forms, the reason given is the one of the form the sender meant.
    const badJoin = checkAnswer('room:join', { ok: true, data: { ...validJoinAnswer, peerId: '' } });
    assert.deepEqual(badJoin, { ok: false, reason: '/data/peerId: shorter than 1' });
    assert.equal(isNotificationName('toString'), false);
    assert.deepEqual(checkAnswer('nope' as 'room:join', {}), {
      ok: false,
      reason: 'no answer schema for "nope"',
    });
  });

  it('refuses to compile a schema the checker cannot check', () => {
    assert.throws(() => toWireSchema(z.string().regex(/^a+$/), 'a pattern'), /does not support #\/pattern/);
    assert.throws(() => toWireSchema(z.date(), 'a date'), /Date/);
  });
});
