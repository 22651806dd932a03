import { uplinkRttSchema } from '@microstudio/protocol';
import { z } from 'zod';
import { FabricError, type NodeAnnouncement, type NodeRecord } from './Fabric.ts';

/** The same rule as MICROSTUDIO_NODE_ID: the id becomes part of a store key, so no separators. */
const nodeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (1–64)');
const count = z.number().int().nonnegative();
// Placement hands publicUrl to browsers: a record pointing anywhere but http(s) is not a node.
const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * A node's entry as stored. Unknown keys are stripped rather than refused, so a newer node that
 * announces an extra field is still visible to an older one during a rolling upgrade.
 */
export const nodeRecordSchema = z.object({
  nodeId: nodeIdSchema,
  role: z.enum(['site', 'edge']),
  region: z.string().min(1).max(64),
  publicUrl: httpUrl,
  internalUrl: httpUrl,
  capacity: count,
  viewers: count,
  pipes: count,
  uplink: z.enum(['up', 'down', 'none']),
  ...uplinkRttSchema.shape,
  updatedAt: count,
}) satisfies z.ZodType<NodeRecord>;

const announcementSchema = nodeRecordSchema.omit({ updatedAt: true }) satisfies z.ZodType<NodeAnnouncement>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/**
 * Checks what a node is about to announce, so both fabrics refuse the same bad input the same way
 * instead of one storing what the other rejects.
 */
export function checkAnnouncement(node: NodeAnnouncement, ttlMs: number): NodeAnnouncement {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new FabricError(`ttlMs must be a positive integer of milliseconds, got ${ttlMs}`);
  }
  const parsed = announcementSchema.safeParse(node);
  if (!parsed.success) {
    throw new FabricError(`invalid node announcement: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

export function checkNodeId(nodeId: string): string {
  const parsed = nodeIdSchema.safeParse(nodeId);
  if (!parsed.success) throw new FabricError(`invalid node id: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export type ParsedRecord = { ok: true; record: NodeRecord } | { ok: false; reason: string };

/** Parses a stored entry (JSON text) without throwing: a bad entry is skipped, not fatal. */
export function parseStoredRecord(text: string): ParsedRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = nodeRecordSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  return { ok: true, record: parsed.data };
}
