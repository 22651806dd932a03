import type { PlacementAnswer } from '../fabric/fabricNodes.ts';
import { json } from '../fabric/sfu.ts';
import { placeViewer } from './place.ts';

export const dynamic = 'force-dynamic';

const REGION = /^[a-z0-9-]{1,32}$/;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_EXCLUDE = 16;

/**
 * GET /api/placement?region=<r>&exclude=<id,id> → { nodeId, role, region, url } from the media
 * node's /placement. Only `region` (1–32 of a-z 0-9 -) and `exclude` (up to 16 node ids,
 * comma-separated or repeated) pass through; anything else in the query is ignored.
 * 400 { error } for a bad query, 503 { error } when no node can take a viewer or the fabric is
 * unreachable, 502 { error } when the media node is.
 */
export async function GET(request: Request): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const regions = params.getAll('region');
  if (regions.length > 1) return json({ error: 'region is given once' }, 400);
  const region = regions[0];
  if (region !== undefined && !REGION.test(region)) {
    return json({ error: 'region must be 1–32 of a-z 0-9 -' }, 400);
  }
  const exclude = params
    .getAll('exclude')
    .flatMap((value) => value.split(','))
    .filter((id) => id !== '');
  if (exclude.length > MAX_EXCLUDE || exclude.some((id) => !NODE_ID.test(id))) {
    return json({ error: `exclude is up to ${MAX_EXCLUDE} comma-separated node ids` }, 400);
  }

  const placed = await placeViewer({ region, exclude });
  if (!placed.ok) return placed.response;
  return json(placed.placement satisfies PlacementAnswer);
}
