/**
 * What clients check nodes' messages with: the answers and notifications compiled to JSON Schema
 * (generated/wireSchemas.ts, from the zod schemas) and a small checker (jsonSchema.ts). Nothing
 * here loads zod, so a page checks every message without the ~65 ms zod costs a cold page.
 * Exported as '@microstudio/protocol/wire'.
 */
import type { NotificationName, NotificationOf } from './events.ts';
import { WIRE_SCHEMAS_JSON } from './generated/wireSchemas.ts';
import { checkJsonSchema, type JsonSchema } from './jsonSchema.ts';
import type { RequestName, ResponseOf } from './requests.ts';
import type { Result } from './result.ts';

interface ParsedWireSchemas {
  answers: Record<string, JsonSchema>;
  notifications: Record<string, JsonSchema>;
}

let parsed: ParsedWireSchemas | null = null;

function schemas(): ParsedWireSchemas {
  parsed ??= JSON.parse(WIRE_SCHEMAS_JSON) as ParsedWireSchemas;
  return parsed;
}

export { clampTelemetry, isNetworkType, NETWORK_TYPES } from './telemetryClamp.ts';

export type WireCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Checks a node's acknowledgement of `name` (a Result). */
export function checkAnswer<N extends RequestName>(name: N, raw: unknown): WireCheck<Result<ResponseOf<N>>> {
  const schema = Object.hasOwn(schemas().answers, name) ? schemas().answers[name] : undefined;
  if (schema === undefined) return { ok: false, reason: `no answer schema for "${name}"` };
  const failure = checkJsonSchema(schema, raw);
  return failure ? { ok: false, reason: failure } : { ok: true, value: raw as Result<ResponseOf<N>> };
}

export function isNotificationName(name: string): name is NotificationName {
  return Object.hasOwn(schemas().notifications, name);
}

/** Checks a notification's payload. */
export function checkNotification<N extends NotificationName>(
  name: N,
  raw: unknown,
): WireCheck<NotificationOf<N>> {
  const schema = Object.hasOwn(schemas().notifications, name) ? schemas().notifications[name] : undefined;
  if (schema === undefined) return { ok: false, reason: `unknown notification "${name}"` };
  const failure = checkJsonSchema(schema, raw);
  return failure ? { ok: false, reason: failure } : { ok: true, value: raw as NotificationOf<N> };
}
