/** Where the studio's placement API sent this viewer. */
export interface Placement {
  nodeId: string;
  role: 'site' | 'edge';
  region: string;
  /** The node's signaling URL (for the site: this page's origin, which proxies to it). */
  url: string;
}

const REGION = /^[a-z0-9-]{1,32}$/;

export function regionParam(value: string | undefined): string | undefined {
  return value && REGION.test(value) ? value : undefined;
}

/**
 * A StudioSession `locate` for viewers: asks /api/placement for a node (region first, then
 * load), and after losing one asks again without it, so a dead edge's viewers move to another
 * edge (or the site) without a reload. When placement is unavailable the page's own origin
 * (the site, through the studio) is used: watching must not depend on the fabric being up.
 * `initial` is where the server placed this viewer while rendering the page: the first
 * connection goes there without a round trip; every later one asks again.
 */
export function createViewerLocator(options: {
  region: string | undefined;
  /** Venue screens watch at the site itself (`/watch?at=site`), never through the cloud. */
  atSite?: boolean;
  initial?: Placement | null;
  onPlaced: (placement: Placement) => void;
}): (attempt: { failover: boolean }) => string | Promise<string> {
  let current: string | null = null;
  let initial = options.initial ?? null;
  const place = (placement: Placement): string => {
    current = placement.nodeId;
    const url = placement.role === 'site' ? window.location.origin : placement.url;
    options.onPlaced({ ...placement, url });
    return url;
  };
  const ask = async (failover: boolean): Promise<string> => {
    const params = new URLSearchParams();
    if (options.region) params.set('region', options.region);
    if (failover && current) params.set('exclude', current);
    let placement: Placement | null = null;
    try {
      const response = await fetch(`/api/placement?${params}`, { cache: 'no-store' });
      if (response.ok) placement = (await response.json()) as Placement;
    } catch {
      placement = null;
    }
    if (!placement) {
      current = null;
      return window.location.origin;
    }
    return place(placement);
  };
  // Known answers are given at once (not as a promise), so the session connects within the call.
  return ({ failover }) => {
    if (options.atSite) {
      options.onPlaced({ nodeId: 'site', role: 'site', region: 'venue', url: window.location.origin });
      return window.location.origin;
    }
    const given = failover ? null : initial;
    initial = null;
    return given ? place(given) : ask(failover);
  };
}
