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
 */
export function createViewerLocator(options: {
  region: string | undefined;
  /** Venue screens watch at the site itself (`/watch?at=site`), never through the cloud. */
  atSite?: boolean;
  onPlaced: (placement: Placement) => void;
}): (attempt: { failover: boolean }) => Promise<string> {
  let current: string | null = null;
  return async ({ failover }) => {
    if (options.atSite) {
      options.onPlaced({ nodeId: 'site', role: 'site', region: 'venue', url: window.location.origin });
      return window.location.origin;
    }
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
    current = placement.nodeId;
    const url = placement.role === 'site' ? window.location.origin : placement.url;
    options.onPlaced({ ...placement, url });
    return url;
  };
}
