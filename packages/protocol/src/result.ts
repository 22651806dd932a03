import { z } from 'zod';
import { type ErrorCode, errorCodes } from './errors.ts';

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/** Every acknowledgement is a Result: never a bare value, never a thrown error across the wire. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ProtocolError };

export const ok = <T>(data: T): Result<T> => ({ ok: true, data });
export const fail = (code: ErrorCode, message: string): { ok: false; error: ProtocolError } => ({
  ok: false,
  error: { code, message },
});

export const protocolErrorSchema = z.object({
  code: z.enum(errorCodes as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});

/** Schema of a Result whose data is `data`: clients validate what nodes answer, too. */
export const resultSchema = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: protocolErrorSchema }),
  ]);
