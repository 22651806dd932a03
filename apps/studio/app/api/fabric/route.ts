import { errorText, type FabricAnswer, publicNodes } from './fabricNodes.ts';
import { json, sfuGet } from './sfu.ts';

export const dynamic = 'force-dynamic';

/**
 * GET /api/fabric → { nodes, now }: the media node's /fabric/nodes without internalUrl, plus the
 * studio's clock. 503 { error } when the fabric store is unreachable, 502 { error } when the node is.
 */
export async function GET(): Promise<Response> {
  const answer = await sfuGet('/fabric/nodes');
  if (!answer.ok) return answer.response;
  const { status, body } = answer;
  if (status === 503) return json({ error: errorText(body) ?? 'fabric unavailable' }, 503);
  if (status !== 200) return json({ error: `media node answered HTTP ${status}` }, 502);
  const nodes = publicNodes(body);
  if (!nodes) return json({ error: 'media node sent a malformed node list' }, 502);
  return json({ nodes, now: Date.now() } satisfies FabricAnswer);
}
