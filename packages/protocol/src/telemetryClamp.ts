/**
 * Telemetry a page sends, made acceptable before it goes (no zod: pages load this): a figure its
 * schema would refuse is left out rather than have the whole report refused. The schema is
 * telemetryReportSchema (telemetry.ts) compiled to JSON Schema (generated/wireSchemas.ts), so
 * there is one definition of what is acceptable.
 */
import { compiledSchemas } from './compiledSchemas.ts';
import { checkJsonSchema, isObject, type JsonSchema, ownSchema, propertiesOf } from './jsonSchema.ts';
import type { TelemetryReport } from './telemetry.ts';

/** navigator.connection: `type` where the browser has it, else `effectiveType`. */
export const NETWORK_TYPES = [
  'bluetooth',
  'cellular',
  'ethernet',
  'none',
  'wifi',
  'wimax',
  'other',
  'unknown',
  'slow-2g',
  '2g',
  '3g',
  '4g',
] as const;

export function isNetworkType(value: unknown): value is (typeof NETWORK_TYPES)[number] {
  return (NETWORK_TYPES as readonly unknown[]).includes(value);
}

/**
 * The report without any figure its schema would refuse (out of bounds, non-finite, of the wrong
 * type), freezes rounded; in bitrateKbps each direction is kept or left out on its own.
 */
export function clampTelemetry(report: TelemetryReport): TelemetryReport {
  const properties = propertiesOf(compiledSchemas().telemetryReport);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(report as Record<string, unknown>)) {
    const schema = ownSchema(properties, key);
    if (schema === undefined || raw === undefined) continue;
    let value: unknown = key === 'freezes' && typeof raw === 'number' ? Math.round(raw) : raw;
    if (key === 'bitrateKbps' && isObject(raw)) value = validParts(schema, raw);
    if (value !== undefined && checkJsonSchema(schema, value) === null) out[key] = value;
  }
  return out as TelemetryReport;
}

/** The properties of `value` its object schema accepts one by one; undefined if none. */
function validParts(schema: JsonSchema, value: Record<string, unknown>): Record<string, unknown> | undefined {
  const properties = propertiesOf(schema);
  const kept = Object.entries(value).filter(([key, part]) => {
    const inner = ownSchema(properties, key);
    return inner !== undefined && part !== undefined && checkJsonSchema(inner, part) === null;
  });
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}
