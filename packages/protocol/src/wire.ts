/**
 * What clients check nodes' messages with: the answers and notifications compiled to JSON Schema
 * (generated/wireSchemas.ts, from the zod schemas) and a small checker (jsonSchema.ts). Nothing
 * here loads zod, so a page checks every message without the ~65 ms zod costs a cold page.
 * Exported as '@microstudio/protocol/wire'.
 */
import { compiledSchemas } from './compiledSchemas.ts';
import type { NotificationName, NotificationOf } from './events.ts';
import { checkJsonSchema, ownSchema } from './jsonSchema.ts';
import type { RequestName, ResponseOf } from './requests.ts';
import type { Result } from './result.ts';

export { clampTelemetry, isNetworkType, NETWORK_TYPES } from './telemetryClamp.ts';

export type WireCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Checks a node's acknowledgement of `name` (a Result). */
export function checkAnswer<N extends RequestName>(name: N, raw: unknown): WireCheck<Result<ResponseOf<N>>> {
  const schema = ownSchema(compiledSchemas().answers, name);
  if (schema === undefined) return { ok: false, reason: `no answer schema for "${name}"` };
  const failure = checkJsonSchema(schema, raw);
  return failure ? { ok: false, reason: failure } : { ok: true, value: raw as Result<ResponseOf<N>> };
}

export function isNotificationName(name: string): name is NotificationName {
  return ownSchema(compiledSchemas().notifications, name) !== undefined;
}

/** Checks a notification's payload. */
export function checkNotification<N extends NotificationName>(
  name: N,
  raw: unknown,
): WireCheck<NotificationOf<N>> {
  const schema = ownSchema(compiledSchemas().notifications, name);
  if (schema === undefined) return { ok: false, reason: `unknown notification "${name}"` };
  const failure = checkJsonSchema(schema, raw);
  return failure ? { ok: false, reason: failure } : { ok: true, value: raw as NotificationOf<N> };
}
