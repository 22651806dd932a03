/**
 * The protocol's schemas (zod), loaded on first use rather than with the SDK. Building them is a
 * good share of a page's start-up work, and none is needed before the node first answers: asked
 * for when signaling is created, they load and build while the socket connects. Constants and
 * error codes come from the protocol's schema-free modules ('@microstudio/protocol/errors',
 * '@microstudio/protocol/limits'), so nothing else in the SDK pulls the schemas in early.
 */
export type ProtocolSchemas = typeof import('@microstudio/protocol');

let loading: Promise<ProtocolSchemas> | null = null;

export function protocolSchemas(): Promise<ProtocolSchemas> {
  loading ??= import('@microstudio/protocol');
  return loading;
}
