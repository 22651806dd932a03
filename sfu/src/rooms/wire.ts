/**
 * mediasoup types its codec `parameters` as Record<string, unknown>; on the wire they are
 * strings and numbers (what mediasoup itself produces and what the protocol schema accepts).
 * This is the one place that asserts it, for objects mediasoup generated.
 */
export function toWire<T>(value: object): T {
  return value as T;
}
