/**
 * The JSON Schemas the zod schemas compile to (generated/wireSchemas.ts), parsed once, on first
 * use, for every zod-free reader (wire.ts, telemetryClamp.ts). The type import loads no zod.
 */
import { WIRE_SCHEMAS_JSON } from './generated/wireSchemas.ts';
import type { WireSchemas } from './wireSchemaSource.ts';

let parsed: WireSchemas | null = null;

export function compiledSchemas(): WireSchemas {
  parsed ??= JSON.parse(WIRE_SCHEMAS_JSON) as WireSchemas;
  return parsed;
}
