import { errorText, type PlacementAnswer, placementOf } from '../fabric/fabricNodes.ts';
import { json, SFU_TIMEOUT_MS, sfuGet } from '../fabric/sfu.ts';

export type PlaceResult = { ok: true; placement: PlacementAnswer } | { ok: false; response: Response };

/**
 * Asks the media node's /placement where a viewer should watch (region first, then load, never
 * at an excluded node). The query is trusted: callers validate it. A failure is already an answer
 * for the browser: 400/503 { error } as the node said, 502 { error } when the node is unreachable,
 * slower than `timeoutMs` or malformed.
 */
export async function placeViewer(
  query: { region?: string | undefined; exclude?: readonly string[] },
  timeoutMs = SFU_TIMEOUT_MS,
): Promise<PlaceResult> {
  const params = new URLSearchParams();
  if (query.region !== undefined) params.set('region', query.region);
  if (query.exclude && query.exclude.length > 0) params.set('exclude', query.exclude.join(','));
  const search = params.size > 0 ? `?${params}` : '';
  const answer = await sfuGet(`/placement${search}`, process.env, timeoutMs);
  if (!answer.ok) return answer;
  const { status, body } = answer;
  if (status === 400 || status === 503) {
    const error = errorText(body) ?? (status === 400 ? 'bad placement query' : 'no media node');
    return { ok: false, response: json({ error }, status) };
  }
  if (status !== 200)
    return { ok: false, response: json({ error: `media node answered HTTP ${status}` }, 502) };
  const placement = placementOf(body);
  if (!placement)
    return { ok: false, response: json({ error: 'media node sent a malformed placement' }, 502) };
  return { ok: true, placement };
}
