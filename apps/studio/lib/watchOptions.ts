import { placementOf } from '../app/api/fabric/fabricNodes.ts';
import { type Placement, regionParam } from './placement.ts';
import { roomParam } from './query.ts';

/** What the watch page's controller is made of: the server's reading of the page's URL. */
export interface WatchOptions {
  room: string;
  region: string | undefined;
  /** Watch at the site, bypassing placement (venue screens). */
  atSite?: boolean;
  /** Where the server placed this viewer when rendering the page: the first connection's node. */
  placement?: Placement | null;
}

/**
 * The watch page's element carries its WatchOptions as JSON in this attribute: the server writes
 * them (app/watch/html.ts), the page's script starts its controller from them (viewer/main.ts).
 */
export const WATCH_OPTIONS_ATTRIBUTE = 'data-watch';

/** `options` as JSON, fields in a fixed order: the attribute's value, and a key to compare by. */
export function watchOptionsJson({ room, region, atSite = false, placement = null }: WatchOptions): string {
  return JSON.stringify({
    room,
    region: region ?? null,
    atSite,
    placement: placement && {
      nodeId: placement.nodeId,
      role: placement.role,
      region: placement.region,
      url: placement.url,
    },
  });
}

/** WatchOptions read back from watchOptionsJson(), or null when absent or not well-formed. */
export function parseWatchOptions(text: string | null | undefined): WatchOptions | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { room, region, atSite, placement } = value as Record<string, unknown>;
  if (typeof room !== 'string' || roomParam({ room }) !== room) return null;
  if (region !== null && (typeof region !== 'string' || regionParam(region) !== region)) return null;
  if (typeof atSite !== 'boolean') return null;
  const placed = placement === null ? null : placementOf(placement);
  if (placement !== null && !placed) return null;
  return { room, region: region ?? undefined, atSite, placement: placed };
}
