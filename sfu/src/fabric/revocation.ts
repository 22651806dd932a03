import { z } from 'zod';
import { FabricError, type Revocation } from './Fabric.ts';

/** The token's `jti` rule (@microstudio/auth): any 1–64 characters. */
const inviteIdSchema = z.string().min(1).max(64);

const revocationSchema = z.object({
  inviteId: inviteIdSchema,
  expiresAt: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
}) satisfies z.ZodType<Revocation>;

/** Checks what a site is about to record, so both fabrics refuse the same bad input. */
export function checkRevocations(revocations: readonly Revocation[]): Revocation[] {
  return revocations.map((revocation) => {
    const parsed = revocationSchema.safeParse(revocation);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new FabricError(`invalid revocation: ${why}`);
    }
    return parsed.data;
  });
}

export function checkInviteId(inviteId: string): string {
  if (!inviteIdSchema.safeParse(inviteId).success) {
    throw new FabricError('invalid invite id: 1–64 characters');
  }
  return inviteId;
}
