import type { z } from 'zod';
import { ErrorCode } from './errors.ts';
import { MAX_MESSAGE_BYTES } from './limits.ts';
import { isRequestName, type RequestName, type RequestOf, requests } from './requests.ts';
import { fail, type ProtocolError } from './result.ts';

export type Validated<N extends RequestName> =
  | { ok: true; name: N; payload: RequestOf<N> }
  | { ok: false; error: ProtocolError };

const utf8 = new TextEncoder();

/** Serialized size of a payload in bytes, as the node measures it against MAX_MESSAGE_BYTES. */
export function payloadBytes(payload: unknown): number {
  try {
    const json = JSON.stringify(payload);
    return json === undefined ? 0 : utf8.encode(json).byteLength;
  } catch {
    // Cyclic or BigInt payloads cannot come off the wire; treat them as oversize rather than throw.
    return Number.POSITIVE_INFINITY;
  }
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The boundary check every incoming message goes through: known event, size, schema.
 * Returns the parsed (and so stripped of unknown top-level keys) payload.
 */
export function validateRequest(
  name: string,
  payload: unknown,
  maxBytes = MAX_MESSAGE_BYTES,
): Validated<RequestName> {
  if (!isRequestName(name)) return fail(ErrorCode.UnknownEvent, `unknown event "${name.slice(0, 64)}"`);
  const bytes = payloadBytes(payload);
  if (bytes > maxBytes) {
    return fail(ErrorCode.MessageTooLarge, `payload of ${bytes} bytes exceeds the ${maxBytes}-byte limit`);
  }
  const parsed = requests[name].request.safeParse(payload);
  if (!parsed.success) return fail(ErrorCode.BadRequest, `invalid ${name}: ${describe(parsed.error)}`);
  return { ok: true, name, payload: parsed.data as RequestOf<RequestName> };
}
