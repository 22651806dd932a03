/**
 * The protocol's zod schemas, loaded on first use rather than with the SDK: zod and the schemas
 * are a good share of a cold page's start-up work. Signaling does not need them (it checks
 * messages with '@microstudio/protocol/wire'); telemetry does, for its first report, well after
 * the first frame. Constants and error codes come from the protocol's schema-free modules
 * ('@microstudio/protocol/errors', '/limits'), so nothing else in the SDK pulls the schemas in.
 */
export type ProtocolSchemas = typeof import('@microstudio/protocol');

let loading: Promise<ProtocolSchemas> | null = null;

export function protocolSchemas(): Promise<ProtocolSchemas> {
  loading ??= import('@microstudio/protocol');
  return loading;
}
